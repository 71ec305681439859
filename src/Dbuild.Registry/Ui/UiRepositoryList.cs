using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Ui;

/// <summary>
/// The repository list the UI pages through and searches. Walking storage for it costs one listing per folder (a
/// thousand repositories: a thousand listings, far more on a blob store), so the last walk is kept: under
/// <see cref="FreshFor"/> it is served as is; up to <see cref="StaleFor"/> it is served while one walk refreshes it in
/// the background; older than that, the request waits for a new walk. Each replica keeps its own copy; storage stays
/// the truth.
/// </summary>
internal sealed class UiRepositoryList(RegistryStorage storage, TimeProvider timeProvider)
{
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan StaleFor = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private Snapshot? _last;
    private Task<Snapshot>? _walking;

    public async Task<IReadOnlyList<string>> GetAsync(CancellationToken cancellationToken)
    {
        Task<Snapshot> walk;
        lock (_gate)
        {
            DateTimeOffset now = timeProvider.GetUtcNow();
            if (_last is { } last && now - last.Taken < FreshFor) { return last.Names; }
            // On the thread pool: a driver that completes synchronously must not finish (and clear _walking) under this lock.
            walk = _walking ??= Task.Run(WalkAsync);
            if (_last is { } stale && now - stale.Taken < StaleFor) { return stale.Names; }
        }
        return (await walk.WaitAsync(cancellationToken).ConfigureAwait(false)).Names;
    }

    /// <summary>One walk at a time, not tied to the request that started it (others share its result).</summary>
    private async Task<Snapshot> WalkAsync()
    {
        try
        {
            DateTimeOffset started = timeProvider.GetUtcNow();
            IReadOnlyList<string> names = await storage.ListRepositoriesAsync(CancellationToken.None).ConfigureAwait(false);
            var snapshot = new Snapshot(names, started);
            lock (_gate) { _last = snapshot; }
            return snapshot;
        }
        finally
        {
            lock (_gate) { _walking = null; }
        }
    }

    private sealed record Snapshot(IReadOnlyList<string> Names, DateTimeOffset Taken);
}
