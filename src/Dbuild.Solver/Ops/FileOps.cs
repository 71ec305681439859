using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Ops;

/// <summary>
/// Runs file ops: COPY/ADD (planned on the parent's metadata tree, read from the source in place, written as one
/// layer) and WORKDIR's mkdir. The key is the parent's key, the op's definition, and what the source contributes:
/// the selected context files' hashes, another stage's or image's key, a commit, a download's digest.
/// </summary>
internal sealed class FileOps(SolveContext context)
{
    private readonly CachedStep _step = new(context);
    private readonly LayerFiles _layers = new(context);

    public Task<OpResult> ExecuteAsync(FileOp op, OpResult[] inputs, CancellationToken cancellationToken) => op.Action switch
    {
        MkdirAction mkdir => MkdirAsync(op, mkdir, inputs[0], cancellationToken),
        CopyAction copy => CopyAsync(op, copy, op.Parent is null ? null : inputs[0], inputs[^1], cancellationToken),
        _ => throw new InvalidOperationException($"Unknown file action {op.Action.GetType().Name}."),
    };

    private async Task<OpResult> MkdirAsync(FileOp op, MkdirAction mkdir, OpResult parent, CancellationToken cancellationToken)
    {
        CacheKeyBuilder key = KeyOf(op, parent);
        Digest digest = key.Build();
        IReadOnlyList<LayerEntry>? written = null;
        FsTree? plannedOn = null;
        StepOutcome outcome = await _step.RunAsync(op, parent.ChainReason, key, async (_, ct) =>
        {
            // Directories WORKDIR creates belong to the current USER, as in BuildKit.
            (int uid, int gid) = string.IsNullOrEmpty(mkdir.User) ? (0, 0) : await RootfsReader.ResolveOwnerAsync(context, parent, mkdir.User, ct).ConfigureAwait(false);
            FsTree tree = await parent.TreeAsync(ct).ConfigureAwait(false);
            string rel = tree.Resolve(CopyPlanner.Clean(mkdir.Path));
            var entries = new List<LayerEntry>();
            string[] parts = rel.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (int k = 0; k < parts.Length; k++)
            {
                string p = string.Join('/', parts[..(k + 1)]);
                FsNode? existing = tree.Get(p);
                if (existing is null)
                {
                    entries.Add(new LayerEntry { Path = p, Type = LayerEntryType.Directory, Mode = (UnixFileMode)0b111_101_101, Uid = uid, Gid = gid, ModificationTime = context.Now });
                }
                else if (k == parts.Length - 1)
                {
                    // BuildKit's mkdir on an existing directory still makes a layer holding that directory.
                    entries.Add(new LayerEntry { Path = p, Type = existing.Type, Mode = existing.Mode, Uid = existing.Uid, Gid = existing.Gid, ModificationTime = context.Now });
                }
            }
            (written, plannedOn) = (entries, tree);
            return await _layers.WriteAsync(entries, digest, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return Layered(op, parent, outcome, written, plannedOn, cancellationToken);
    }

    private async Task<OpResult> CopyAsync(FileOp op, CopyAction copy, OpResult? parent, OpResult source, CancellationToken cancellationToken)
    {
        CacheKeyBuilder key = KeyOf(op, parent);
        if (source.Context is { } contextTree)
        {
            foreach (KeyComponent part in source.SourceKey) { key.Add(part.Name, part.Value); }
            foreach (KeyComponent file in await CopyPlanner.KeyComponentsAsync(copy.Spec, contextTree, cancellationToken).ConfigureAwait(false)) { key.Add(file.Name, file.Value); }
        }
        else if (source.OpenTree is not null)
        {
            foreach (KeyComponent part in source.SourceKey) { key.Add(part.Name, part.Value); }
        }
        else
        {
            // Another stage or an image: its chain key covers its whole filesystem, so nothing is read unless the step runs.
            key.Add("source", source.SourceKey.FirstOrDefault(p => p.Name == "source")?.Value ?? "stage " + source.Key);
        }
        Digest digest = key.Build();
        IReadOnlyList<LayerEntry>? written = null;
        FsTree? plannedOn = null;
        StepOutcome outcome = await _step.RunAsync(op, parent?.ChainReason, key, async (_, ct) =>
        {
            (SourceTree tree, IAsyncDisposable? view) = await OpenSourceAsync(copy, source, ct).ConfigureAwait(false);
            try
            {
                CopySpec spec = copy.Chown is null ? copy.Spec
                    : copy.Spec with { Owner = await RootfsReader.ResolveOwnerAsync(context, parent!, copy.Chown, ct).ConfigureAwait(false) };
                // --link plans on an empty tree, as BuildKit copies onto scratch before merging: nothing of the stage is read,
                // no symlink in the destination is followed, and every parent directory is created afresh.
                FsTree destination = parent is null ? new FsTree() : await parent.TreeAsync(ct).ConfigureAwait(false);
                CopyPlan plan = await CopyPlanner.PlanAsync(spec, tree, destination, copy.WorkingDirectory, ct).ConfigureAwait(false);
                string absolute = spec.Destination.StartsWith('/') ? spec.Destination : copy.WorkingDirectory.TrimEnd('/') + "/" + spec.Destination;
                string destinationPath = spec.Destination.EndsWith('/') ? "\0" : destination.Resolve(CopyPlanner.Clean(absolute));
                IReadOnlyList<LayerEntry> entries = copy.Unpack ? await ArchiveExpander.ExpandAsync(plan.Entries, destinationPath, context.Tmp, ct).ConfigureAwait(false) : plan.Entries;
                (written, plannedOn) = (entries, destination);
                // A context COPY run again (a source file changed) links the files it wrote last time and still has.
                Digest? step = source.Context is not null && !copy.Unpack ? op.Origin?.StepId : null;
                return await _layers.WriteAsync(entries, digest, ct, step).ConfigureAwait(false);
            }
            finally
            {
                if (view is not null) { await view.DisposeAsync().ConfigureAwait(false); }
            }
        }, cancellationToken).ConfigureAwait(false);
        return Layered(op, parent, outcome, written, plannedOn, cancellationToken);
    }

    /// <summary>
    /// The files a copy reads: a context, checkout or download as it is. Another stage or an image: where the build keeps
    /// snapshots, the chain's merged tree mounted read-only (as BuildKit copies from a mounted snapshot: links, owners and
    /// paths through symlinked directories as the kernel sees them); otherwise read in place from its layer tars.
    /// </summary>
    private async Task<(SourceTree Tree, IAsyncDisposable? View)> OpenSourceAsync(CopyAction copy, OpResult source, CancellationToken cancellationToken)
    {
        if (source.OpenTree is { } open) { return (await open(cancellationToken).ConfigureAwait(false), null); }
        string dir = Path.Combine(context.Tmp, "from-" + Guid.NewGuid().ToString("N"));
        if (await context.UsesSnapshotsAsync().ConfigureAwait(false))
        {
            IMountedView view = await context.Executor!.MountReadOnlyAsync([.. source.Layers.Select(l => l.ToSource(context.Lazy))], dir, cancellationToken).ConfigureAwait(false);
            return (new MountedTree(dir, copy.SourceDescription, view.LayerDirectories), view);
        }
        IReadOnlyList<LayerRef> blobs = [.. source.Layers.Select(l => l.Blob ?? throw new InvalidOperationException("A kept snapshot where the build keeps none."))];
        foreach (LayerRef blob in blobs) { await context.Lazy.EnsureAsync(blob.Blob.Digest, cancellationToken).ConfigureAwait(false); }
        return (await LayerIndexTree.BuildAsync(context.Store, blobs, [.. copy.Spec.Sources.Select(CopyPlanner.Clean)], dir, copy.SourceDescription, cancellationToken)
            .ConfigureAwait(false), null);
    }

    /// <summary>The key's fixed part: the parent's key (none for a --link copy) and the op's definition.</summary>
    private static CacheKeyBuilder KeyOf(FileOp op, OpResult? parent)
    {
        var key = new CacheKeyBuilder();
        if (parent is not null) { key.Add("parent", parent.Key.ToString()); }
        foreach (KeyComponent part in op.Definition) { key.Add(part.Name, part.Value); }
        return key;
    }

    /// <summary>
    /// The filesystem after a layer step. Its metadata tree is the parent's plus the layer: the entries this build
    /// planned when it made the layer, or (a cache hit, a RUN) the layer's own tar headers or snapshot directory.
    /// A layer of an exported image starts being written and compressed now, alongside the steps still to run.
    /// </summary>
    private OpResult Layered(OpNode op, OpResult? parent, StepOutcome outcome, IReadOnlyList<LayerEntry>? planned, FsTree? plannedOn, CancellationToken cancellationToken)
    {
        IReadOnlyList<ChainLayer> below = parent?.Layers ?? [];
        ChainLayer? layer = outcome.Layer;
        IReadOnlyList<ChainLayer> layers = layer is null ? below : [.. below, layer];
        if (layer is not null && op.InImage) { context.Compressor.Prefetch(layers, cancellationToken); }
        else if (layer is not null && outcome.MissReason is not null) { context.PrefetchForCache(layers, cancellationToken); }
        return new OpResult
        {
            Key = outcome.Key,
            Layers = layers,
            Layer = layer,
            ChainReason = outcome.ChainReason,
            TreeFactory = async ct =>
            {
                FsTree basis = plannedOn ?? (parent is null ? new FsTree() : await parent.TreeAsync(ct).ConfigureAwait(false));
                if (layer is null) { return basis; }
                FsTree tree = basis.Clone();
                if (planned is not null && plannedOn is not null) { tree.Apply(planned, below.Count); }
                else { await RootfsReader.ApplyLayerAsync(context, tree, layer, below.Count, ct).ConfigureAwait(false); }
                return tree;
            },
        };
    }

    /// <summary>The same result shape for other layer steps (RUN): the tree comes from the layer itself.</summary>
    public OpResult LayeredOn(OpNode op, OpResult parent, StepOutcome outcome, CancellationToken cancellationToken) =>
        Layered(op, parent, outcome, null, null, cancellationToken);
}
