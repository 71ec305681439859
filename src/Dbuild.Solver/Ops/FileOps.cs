using Dbuild.Oci.Layers;
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
        IReadOnlyList<LayerEntry>? written = null;
        FsTree? plannedOn = null;
        StepOutcome outcome = await _step.RunAsync(op, parent.ChainReason, key, async (_, ct) =>
        {
            // Directories WORKDIR creates belong to the current USER, as in BuildKit.
            (int uid, int gid) = string.IsNullOrEmpty(mkdir.User) ? (0, 0) : await RootfsReader.ResolveOwnerAsync(context.Store, parent, mkdir.User, ct).ConfigureAwait(false);
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
            return await _layers.WriteAsync(entries, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return Layered(parent, outcome, written, plannedOn);
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
        IReadOnlyList<LayerEntry>? written = null;
        FsTree? plannedOn = null;
        StepOutcome outcome = await _step.RunAsync(op, parent?.ChainReason, key, async (_, ct) =>
        {
            SourceTree tree = await OpenSourceAsync(copy, source, ct).ConfigureAwait(false);
            CopySpec spec = copy.Chown is null ? copy.Spec
                : copy.Spec with { Owner = await RootfsReader.ResolveOwnerAsync(context.Store, parent!, copy.Chown, ct).ConfigureAwait(false) };
            // --link plans on an empty tree, as BuildKit copies onto scratch before merging: nothing of the stage is read,
            // no symlink in the destination is followed, and every parent directory is created afresh.
            FsTree destination = parent is null ? new FsTree() : await parent.TreeAsync(ct).ConfigureAwait(false);
            CopyPlan plan = await CopyPlanner.PlanAsync(spec, tree, destination, copy.WorkingDirectory, ct).ConfigureAwait(false);
            string absolute = spec.Destination.StartsWith('/') ? spec.Destination : copy.WorkingDirectory.TrimEnd('/') + "/" + spec.Destination;
            string destinationPath = spec.Destination.EndsWith('/') ? "\0" : destination.Resolve(CopyPlanner.Clean(absolute));
            IReadOnlyList<LayerEntry> entries = copy.Unpack ? await ArchiveExpander.ExpandAsync(plan.Entries, destinationPath, context.Tmp, ct).ConfigureAwait(false) : plan.Entries;
            (written, plannedOn) = (entries, destination);
            return await _layers.WriteAsync(entries, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return Layered(parent, outcome, written, plannedOn);
    }

    /// <summary>The files a copy reads: a context, checkout or download as it is; a stage or image read in place from its layers.</summary>
    private async Task<SourceTree> OpenSourceAsync(CopyAction copy, OpResult source, CancellationToken cancellationToken)
    {
        if (source.OpenTree is { } open) { return await open(cancellationToken).ConfigureAwait(false); }
        string dir = Path.Combine(context.Tmp, "from-" + Guid.NewGuid().ToString("N"));
        return await LayerIndexTree.BuildAsync(context.Store, source.Layers, [.. copy.Spec.Sources.Select(CopyPlanner.Clean)], dir, copy.SourceDescription, cancellationToken)
            .ConfigureAwait(false);
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
    /// planned when it made the layer, or (a cache hit) the layer's own tar headers.
    /// </summary>
    private OpResult Layered(OpResult? parent, StepOutcome outcome, IReadOnlyList<LayerEntry>? planned, FsTree? plannedOn)
    {
        IReadOnlyList<LayerRef> below = parent?.Layers ?? [];
        LayerRef? layer = outcome.Layer;
        return new OpResult
        {
            Key = outcome.Key,
            Layers = layer is null ? below : [.. below, layer],
            Layer = layer,
            ChainReason = outcome.ChainReason,
            TreeFactory = async ct =>
            {
                FsTree basis = plannedOn ?? (parent is null ? new FsTree() : await parent.TreeAsync(ct).ConfigureAwait(false));
                if (layer is null) { return basis; }
                FsTree tree = basis.Clone();
                if (planned is not null && plannedOn is not null) { tree.Apply(planned, below.Count); }
                else { await RootfsReader.ApplyLayerAsync(context.Store, tree, layer, below.Count, ct).ConfigureAwait(false); }
                return tree;
            },
        };
    }

    /// <summary>The same result shape for other layer steps (RUN): the tree comes from the layer's tar headers.</summary>
    public OpResult LayeredOn(OpResult parent, StepOutcome outcome) => Layered(parent, outcome, null, null);
}
