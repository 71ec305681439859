using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Dbuild.Solver.Ops;

namespace Dbuild.Solver.Graph;

/// <summary>
/// Solves a build graph: each node once (whoever asks first starts it; everyone else awaits the same task), its
/// inputs first and side by side, the steps themselves bounded by <see cref="SolveContext.Slots"/>. The first op to
/// fail cancels every other op, and <see cref="SolveAsync"/> returns only once every op it started has stopped, so
/// no step is still mounting, writing or running when the caller cleans up.
/// </summary>
internal sealed class GraphSolver(OpExecutors executors)
{
    private readonly ConcurrentDictionary<OpNode, Lazy<Task<OpResult>>> _results = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentQueue<Task> _started = new();
    private CancellationTokenSource? _cancel; // owned by SolveAsync, for the duration of the solve
    private Exception? _failure;

    /// <summary>The results of <paramref name="roots"/>; throws the first op failure (never a cancellation it caused).</summary>
    public async Task<OpResult[]> SolveAsync(IReadOnlyList<OpNode> roots, CancellationToken cancellationToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _cancel = cancel;
        try
        {
            return await Task.WhenAll(roots.Select(ResultAsync)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            await WaitForStartedAsync().ConfigureAwait(false);
            if (_failure is not null && !cancellationToken.IsCancellationRequested) { ExceptionDispatchInfo.Throw(_failure); }
            throw;
        }
    }

    /// <summary>The result of <paramref name="node"/>, solving it (once) if nobody has yet.</summary>
    public Task<OpResult> ResultAsync(OpNode node) =>
        _results.GetOrAdd(node, n => new Lazy<Task<OpResult>>(() =>
        {
            Task<OpResult> task = Task.Run(() => SolveNodeAsync(n), CancellationToken.None);
            _started.Enqueue(task);
            return task;
        })).Value;

    private async Task<OpResult> SolveNodeAsync(OpNode node)
    {
        CancellationTokenSource cancel = _cancel ?? throw new InvalidOperationException("ResultAsync outside SolveAsync.");
        CancellationToken cancellationToken = cancel.Token;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            OpResult[] inputs = await Task.WhenAll(node.Inputs.Select(ResultAsync)).ConfigureAwait(false);
            return await executors.ExecuteAsync(node, inputs, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Interlocked.CompareExchange(ref _failure, ex, null);
            await cancel.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until every op started has finished (ops that start while waiting, too).</summary>
    private async Task WaitForStartedAsync()
    {
        while (_started.TryDequeue(out Task? task))
        {
            await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
