using Dbuild.Oci;
using Dbuild.Runtime;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Ops;

/// <summary>
/// Runs exec ops (RUN) through the step executor (an OCI runtime on overlay snapshots). The key is the parent's key,
/// the op's definition, and what the mounts read: a bound context's selected files, a bound or seeding stage's key.
/// </summary>
internal sealed class ExecOps(SolveContext context)
{
    private readonly CachedStep _step = new(context);
    private readonly LayerFiles _layers = new(context);
    private readonly FileOps _results = new(context);
    private readonly ExecMounts _mounts = new(context);

    public async Task<OpResult> ExecuteAsync(ExecOp op, OpResult[] inputs, CancellationToken cancellationToken)
    {
        OpResult parent = inputs[0];
        var key = new CacheKeyBuilder().Add("parent", parent.Key.ToString());
        foreach (KeyComponent part in op.Definition) { key.Add(part.Name, part.Value); }
        // Bind and cache sources add their content (or their stage's key) to the key, before the lookup.
        var sources = new Dictionary<ExecMount, OpResult>(ReferenceEqualityComparer.Instance);
        int next = 1;
        foreach (ExecMount mount in op.Mounts.Where(m => m.Source is not null)) { sources[mount] = inputs[next++]; }
        foreach (ExecMount mount in op.Mounts)
        {
            if (sources.TryGetValue(mount, out OpResult? source))
            {
                key.Add("mount " + mount.Target, await ExecMounts.KeyAsync(mount, source, cancellationToken).ConfigureAwait(false));
            }
        }
        IReadOnlyList<ChainLayer> layers = parent.Layers;
        Digest digest = key.Build();
        StepOutcome outcome = await _step.RunAsync(op, parent.ChainReason, key, async (vertex, ct) =>
        {
            IStepExecutor executor = context.Options.Executor ?? throw new BuildException(
                $"{op.Name}: RUN needs a container runtime, and none is configured (install runc or crun).");
            bool snapshots = await context.UsesSnapshotsAsync().ConfigureAwait(false);
            var stepMounts = new List<StepMount>();
            var views = new List<IAsyncDisposable>();
            try
            {
                int ssh = 0;
                foreach (ExecMount mount in op.Mounts)
                {
                    StepMount? made = await _mounts.CreateAsync(mount, sources.GetValueOrDefault(mount), op.ProcessEnv(), ssh, views, ct).ConfigureAwait(false);
                    if (made is SshMount) { ssh++; }
                    if (made is not null) { stepMounts.Add(made); }
                }
                return await RunStepAsync(op, executor, layers, stepMounts, snapshots ? LayerFiles.NewSnapshotId(digest) : null, vertex, ct).ConfigureAwait(false);
            }
            finally
            {
                foreach (IAsyncDisposable view in views) { await view.DisposeAsync().ConfigureAwait(false); }
            }
        }, cancellationToken).ConfigureAwait(false);
        return _results.LayeredOn(op, parent, outcome, cancellationToken);
    }

    /// <summary>One run of the step: a kept snapshot when the build keeps them, else a layer tar moved into the store.</summary>
    private async Task<CacheRecord> RunStepAsync(ExecOp op, IStepExecutor executor, IReadOnlyList<ChainLayer> layers, List<StepMount> stepMounts, Digest? keep,
        Progress.Vertex vertex, CancellationToken ct)
    {
        var request = new StepRequest
        {
            Layers = [.. layers.Select(l => l.ToSource(context.Lazy))],
            KeepSnapshot = keep,
            Args = op.Args,
            Env = op.ProcessEnv(),
            WorkingDirectory = op.WorkingDirectory,
            User = op.User,
            Network = op.Network switch { "none" => StepNetwork.None, "host" => StepNetwork.Host, _ => StepNetwork.Default },
            ExtraHosts = op.ExtraHosts,
            Security = op.Security == Dockerfile.SecurityMode.Insecure ? StepSecurity.Insecure : StepSecurity.Sandbox,
            Mounts = stepMounts,
            Output = line => vertex.Log(line.Text),
            DisplayName = op.Name,
            Compression = LayerCompression.None, // compressed at export, if the image needs it
            SourceDateEpoch = context.Request.SourceDateEpoch,
        };
        StepResult result;
        try { result = await executor.RunAsync(request, ct).ConfigureAwait(false); }
        catch (StepFailedException ex)
        {
            throw new BuildException($"process \"{string.Join(' ', op.Args)}\" did not complete successfully: exit code: {ex.ExitCode}" +
                (ex.LastLines.Count > 0 ? "\n" + string.Join('\n', ex.LastLines.TakeLast(10)) : ""), ex);
        }
        if (result.Snapshot is { } snapshot) { return new CacheRecord(null) { Snapshot = snapshot.ToString(), OnlyChanges = true }; }
        // A RUN that changed nothing still gives a layer, an empty tar, as BuildKit's (not an empty_layer history entry).
        if (result.Layer is not { } layer || result.LayerPath is null) { return await _layers.WriteAsync([], keep ?? default, ct).ConfigureAwait(false); }
        try
        {
            return new CacheRecord(await _layers.IngestAsync(result.LayerPath, layer, ct).ConfigureAwait(false));
        }
        catch
        {
            File.Delete(result.LayerPath); // not in the store: nothing else will remove it
            throw;
        }
    }
}
