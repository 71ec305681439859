using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Observability;

/// <summary>
/// Measures every operation of the registered <see cref="IStorageDriver"/> (filesystem, Azure or any other) into
/// <see cref="StorageMetrics"/>: latency, and failures through an exception filter that never catches. Registered in
/// place of the driver only when metrics are on. A read's latency is the time to open it, as registry:2's <c>Reader</c>.
/// </summary>
internal sealed class InstrumentedStorageDriver : IStorageDriver
{
    private readonly IStorageDriver _inner;
    private readonly StorageMetrics _metrics;

    public InstrumentedStorageDriver(IStorageDriver inner, StorageMetrics metrics)
    {
        (_inner, _metrics) = (inner, metrics);
        metrics.Driver = inner.Name;
    }

    public string Name => _inner.Name;

    public Task<StorageStat?> StatAsync(string path, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.Stat, started, _inner.StatAsync(path, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.Stat, started, ex)) { throw; }
    }

    public Task<StorageContent?> ReadAllAsync(string path, int maxBytes, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.ReadAll, started, _inner.ReadAllAsync(path, maxBytes, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.ReadAll, started, ex)) { throw; }
    }

    public Task<Stream?> OpenReadAsync(string path, long offset, long? length, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.OpenRead, started, _inner.OpenReadAsync(path, offset, length, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.OpenRead, started, ex)) { throw; }
    }

    public Task<string?> WriteAsync(string path, ReadOnlyMemory<byte> content, WriteCondition condition, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.Write, started, _inner.WriteAsync(path, content, condition, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.Write, started, ex)) { throw; }
    }

    public Task<StagedPart> StageAsync(string path, long offset, PipeReader content, Action<ReadOnlySequence<byte>> observe, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.Stage, started, _inner.StageAsync(path, offset, content, observe, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.Stage, started, ex)) { throw; }
    }

    public Task CommitStagedAsync(string path, IReadOnlyList<StagedPart> parts, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.CommitStaged, started, _inner.CommitStagedAsync(path, parts, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.CommitStaged, started, ex)) { throw; }
    }

    public Task<bool> MoveIfAbsentAsync(string source, string destination, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.MoveIfAbsent, started, _inner.MoveIfAbsentAsync(source, destination, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.MoveIfAbsent, started, ex)) { throw; }
    }

    public Task<StoragePage> ListAsync(string prefix, string? after, int pageSize, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.List, started, _inner.ListAsync(prefix, after, pageSize, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.List, started, ex)) { throw; }
    }

    /// <summary>A walk is one operation from its first item to its end (or to where the caller stopped).</summary>
    public async IAsyncEnumerable<StorageEntry> WalkAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            IAsyncEnumerator<StorageEntry> entries = _inner.WalkAsync(prefix, cancellationToken).GetAsyncEnumerator(cancellationToken);
            await using (entries.ConfigureAwait(false))
            {
                while (await MoveNextAsync(entries).ConfigureAwait(false)) { yield return entries.Current; }
            }
        }
        finally { _metrics.Observe(StorageAction.Walk, started); }
    }

    private async ValueTask<bool> MoveNextAsync(IAsyncEnumerator<StorageEntry> entries)
    {
        try { return await entries.MoveNextAsync().ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.Walk, ex)) { throw; }
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.Exists, started, _inner.ExistsAsync(path, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.Exists, started, ex)) { throw; }
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.Delete, started, _inner.DeleteAsync(path, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.Delete, started, ex)) { throw; }
    }

    public Task<bool> DeleteIfMatchAsync(string path, string etag, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.DeleteIfMatch, started, _inner.DeleteIfMatchAsync(path, etag, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.DeleteIfMatch, started, ex)) { throw; }
    }

    public Task<Uri?> GetDownloadUrlAsync(string path, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return Measure(StorageAction.GetDownloadUrl, started, _inner.GetDownloadUrlAsync(path, lifetime, cancellationToken)); }
        catch (Exception ex) when (Failed(StorageAction.GetDownloadUrl, started, ex)) { throw; }
    }

    /// <summary>
    /// Times <paramref name="task"/>. One that already succeeded (the filesystem driver's small reads and stats) is
    /// returned as it is, so the hot path allocates nothing; others are awaited.
    /// </summary>
    private Task<T> Measure<T>(StorageAction action, long started, Task<T> task)
    {
        if (!task.IsCompletedSuccessfully) { return MeasureAsync(action, started, task); }
        _metrics.Observe(action, started);
        return task;
    }

    private async Task<T> MeasureAsync<T>(StorageAction action, long started, Task<T> task)
    {
        try { return await task.ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(action, ex)) { throw; }
        finally { _metrics.Observe(action, started); }
    }

    private Task Measure(StorageAction action, long started, Task task)
    {
        if (!task.IsCompletedSuccessfully) { return MeasureAsync(action, started, task); }
        _metrics.Observe(action, started);
        return task;
    }

    private async Task MeasureAsync(StorageAction action, long started, Task task)
    {
        try { await task.ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(action, ex)) { throw; }
        finally { _metrics.Observe(action, started); }
    }

    /// <summary>A driver that throws before returning a task: counted and timed; false, so the filter never catches.</summary>
    private bool Failed(StorageAction action, long started, Exception exception)
    {
        _metrics.Observe(action, started);
        return _metrics.Failed(action, exception);
    }

    /// <summary>Not I/O: a path computation, passed through unmeasured.</summary>
    public string? GetLocalPath(string path) => _inner.GetLocalPath(path);
}
