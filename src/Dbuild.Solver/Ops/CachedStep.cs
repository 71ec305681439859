using Dbuild.Oci;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Graph;
using Dbuild.Solver.Progress;

namespace Dbuild.Solver.Ops;

/// <summary>What a layer step came to: its key, the layer it added (if any), why it missed, and what later steps inherit.</summary>
internal sealed record StepOutcome(Digest Key, ChainLayer? Layer, string? MissReason, string? ChainReason);

/// <summary>
/// Runs a layer step (a file or exec op) through the cache: a hit reuses the recorded layer; a miss says why
/// (comparing the key's parts with the step's last build), produces the layer once even if several ops ask for the
/// same key, and records it. Reports the step's vertex and outcome.
/// </summary>
internal sealed class CachedStep(SolveContext context)
{
    /// <param name="node">The op (its name is the vertex, its origin identifies the step across builds).</param>
    /// <param name="pendingReason">What the input step's outcome passes on (see <see cref="OpResult.ChainReason"/>).</param>
    /// <param name="key">The step's key parts.</param>
    /// <param name="produce">Makes the layer on a miss (a blob, or a kept snapshot).</param>
    /// <param name="cancellationToken">Cancels the step.</param>
    public async Task<StepOutcome> RunAsync(OpNode node, string? pendingReason, CacheKeyBuilder key, Func<Vertex, CancellationToken, Task<CacheRecord>> produce,
        CancellationToken cancellationToken)
    {
        string name = node.Name ?? node.Kind;
        StepOrigin origin = node.Origin ?? throw new InvalidOperationException($"The {node.Kind} op '{name}' has no origin.");
        Vertex vertex = context.Tracker.Start(name);
        Digest digest = key.Build();
        BuildRequest request = context.Request;
        string? reason = null;
        CacheRecord? record;
        try
        {
            IReadOnlyList<KeyComponent>? before = await context.Cache.GetStepHistoryAsync(origin.StepId, cancellationToken).ConfigureAwait(false);
            bool noCache = request.NoCache || request.NoCacheFilter.Contains(origin.Stage, StringComparer.OrdinalIgnoreCase);
            record = noCache ? null : await context.Results.TryGetAsync(digest, cancellationToken).ConfigureAwait(false);
            if (record?.Snapshot is { } kept && (!await context.UsesSnapshotsAsync().ConfigureAwait(false) || context.Executor!.SnapshotDirectory(Digest.Parse(kept)) is null))
            {
                record = null; // its snapshot is gone (or this build keeps none)
            }
            if (record is null)
            {
                reason = noCache ? "--no-cache" : context.Results.ExplainMiss(origin.StepId, before, key.Components, pendingReason);
                vertex.Miss(reason);
                context.WarmUpRuntime(cancellationToken);
                Log.CacheMiss(context.Options.Logger, name, digest.ToString(), reason);
                record = await context.Inflight.GetOrAdd(digest, _ => new Lazy<Task<CacheRecord>>(() => ProduceAsync(digest, vertex, produce, cancellationToken))).Value.ConfigureAwait(false);
            }
            else
            {
                Log.CacheHit(context.Options.Logger, name, digest.ToString());
            }
            await context.Cache.PutStepHistoryAsync(origin.StepId, key.Components, cancellationToken).ConfigureAwait(false);
            context.StepKeys.TryAdd(digest, (origin.StepId, key.Components));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            vertex.Fail(ex.Message);
            throw;
        }
        ChainLayer? layer = record.ToLayer();
        if (reason is null) { vertex.Cached(); } else { vertex.Done(); }
        context.Reports.Add((node.Sequence, new StepReport(vertex.Id, name, reason is null, reason, vertex.Elapsed)));
        return new StepOutcome(digest, layer, reason, reason is null ? pendingReason : "previous step changed");
    }

    private async Task<CacheRecord> ProduceAsync(Digest digest, Vertex vertex, Func<Vertex, CancellationToken, Task<CacheRecord>> produce, CancellationToken cancellationToken)
    {
        await context.Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            CacheRecord made = await produce(vertex, cancellationToken).ConfigureAwait(false);
            await context.Results.PutAsync(digest, made, cancellationToken).ConfigureAwait(false);
            return made;
        }
        finally
        {
            context.Slots.Release();
        }
    }
}
