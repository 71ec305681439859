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

    public async Task<StorageStat?> StatAsync(string path, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.StatAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.Stat, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.Stat, started); }
    }

    public async Task<StorageContent?> ReadAllAsync(string path, int maxBytes, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.ReadAllAsync(path, maxBytes, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.ReadAll, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.ReadAll, started); }
    }

    public async Task<Stream?> OpenReadAsync(string path, long offset, long? length, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.OpenReadAsync(path, offset, length, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.OpenRead, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.OpenRead, started); }
    }

    public async Task<string?> WriteAsync(string path, ReadOnlyMemory<byte> content, WriteCondition condition, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.WriteAsync(path, content, condition, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.Write, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.Write, started); }
    }

    public async Task<StagedPart> StageAsync(string path, long offset, PipeReader content, Action<ReadOnlySequence<byte>> observe, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.StageAsync(path, offset, content, observe, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.Stage, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.Stage, started); }
    }

    public async Task CommitStagedAsync(string path, IReadOnlyList<StagedPart> parts, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { await _inner.CommitStagedAsync(path, parts, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.CommitStaged, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.CommitStaged, started); }
    }

    public async Task<bool> MoveIfAbsentAsync(string source, string destination, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.MoveIfAbsentAsync(source, destination, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.MoveIfAbsent, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.MoveIfAbsent, started); }
    }

    public async Task<StoragePage> ListAsync(string prefix, string? after, int pageSize, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.ListAsync(prefix, after, pageSize, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.List, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.List, started); }
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

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.ExistsAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.Exists, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.Exists, started); }
    }

    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { await _inner.DeleteAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.Delete, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.Delete, started); }
    }

    public async Task<bool> DeleteIfMatchAsync(string path, string etag, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.DeleteIfMatchAsync(path, etag, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.DeleteIfMatch, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.DeleteIfMatch, started); }
    }

    public async Task<Uri?> GetDownloadUrlAsync(string path, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try { return await _inner.GetDownloadUrlAsync(path, lifetime, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (_metrics.Failed(StorageAction.GetDownloadUrl, ex)) { throw; }
        finally { _metrics.Observe(StorageAction.GetDownloadUrl, started); }
    }

    /// <summary>Not I/O: a path computation, passed through unmeasured.</summary>
    public string? GetLocalPath(string path) => _inner.GetLocalPath(path);
}
