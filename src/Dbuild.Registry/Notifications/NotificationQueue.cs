using System.Globalization;
using System.Text;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Notifications;

/// <summary>
/// Each endpoint's undelivered events, kept in storage so they survive a restart and are shared by replicas:
/// <c>dbuild/notifications/&lt;endpoint&gt;/events/&lt;ticks&gt;-&lt;id&gt;.json</c> (created if absent, listed in time order).
/// A replica claims an event before sending it with a lease, <c>…/claims/&lt;same name&gt;</c>, created if absent or taken
/// over with a conditional write once expired, so one replica delivers it (at least once: a replica that dies after the
/// POST but before the delete leaves it to be sent again when the lease ends).
/// </summary>
internal sealed class NotificationQueue(IStorageDriver driver)
{
    private const string Root = "dbuild/notifications";
    private const int MaxClaimBytes = 1024;

    public static string Folder(string endpoint) => $"{Root}/{Uri.EscapeDataString(endpoint)}";

    public static string ItemName(DateTimeOffset time, string id) => $"{time.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}-{id}.json";

    public async Task EnqueueAsync(string endpoint, string name, byte[] content, CancellationToken cancellationToken) =>
        await driver.WriteAsync($"{Folder(endpoint)}/events/{name}", content, WriteCondition.IfAbsent, cancellationToken).ConfigureAwait(false);

    /// <summary>The oldest <paramref name="max"/> queued events' names.</summary>
    public async Task<IReadOnlyList<string>> OldestAsync(string endpoint, int max, CancellationToken cancellationToken) =>
        (await driver.ListAsync($"{Folder(endpoint)}/events", null, max, cancellationToken).ConfigureAwait(false)).Names;

    /// <summary>How many events wait (all pages).</summary>
    public async Task<long> CountAsync(string endpoint, CancellationToken cancellationToken)
    {
        long count = 0;
        string? after = null;
        do
        {
            StoragePage page = await driver.ListAsync($"{Folder(endpoint)}/events", after, 1000, cancellationToken).ConfigureAwait(false);
            count += page.Names.Count;
            after = page.Next;
        }
        while (after is not null);
        return count;
    }

    public async Task<byte[]?> ReadAsync(string endpoint, string name, CancellationToken cancellationToken) =>
        (await driver.ReadAllAsync($"{Folder(endpoint)}/events/{name}", 1024 * 1024, cancellationToken).ConfigureAwait(false))?.Content;

    /// <summary>Claims the event for <paramref name="instance"/> until <paramref name="until"/>; the claim's ETag, or null when another replica holds it.</summary>
    public async Task<string?> TryClaimAsync(string endpoint, string name, string instance, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        string path = ClaimPath(endpoint, name);
        byte[] claim = Encoding.UTF8.GetBytes($"{instance} {until.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}");
        if (await driver.WriteAsync(path, claim, WriteCondition.IfAbsent, cancellationToken).ConfigureAwait(false) is { } created) { return created; }
        StorageContent? held = await driver.ReadAllAsync(path, MaxClaimBytes, cancellationToken).ConfigureAwait(false);
        if (held is null) { return await driver.WriteAsync(path, claim, WriteCondition.IfAbsent, cancellationToken).ConfigureAwait(false); }
        string[] parts = Encoding.UTF8.GetString(held.Content).Split(' ');
        bool expired = parts.Length != 2 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long ms) || ms < now.ToUnixTimeMilliseconds();
        return expired || parts[0] == instance
            ? await driver.WriteAsync(path, claim, WriteCondition.IfMatch(held.ETag), cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>Extends a held claim; null when it was taken over (the other replica delivers the event).</summary>
    public async Task<string?> RenewAsync(string endpoint, string name, string etag, string instance, DateTimeOffset until, CancellationToken cancellationToken)
    {
        byte[] claim = Encoding.UTF8.GetBytes($"{instance} {until.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}");
        return await driver.WriteAsync(ClaimPath(endpoint, name), claim, WriteCondition.IfMatch(etag), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The event was delivered: removes it, then its claim.</summary>
    public async Task CompleteAsync(string endpoint, string name, string claimETag, CancellationToken cancellationToken)
    {
        await driver.DeleteAsync($"{Folder(endpoint)}/events/{name}", cancellationToken).ConfigureAwait(false);
        await driver.DeleteIfMatchAsync(ClaimPath(endpoint, name), claimETag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gives up a claim (stopping, or the event vanished) so another replica may take the event at once.</summary>
    public Task<bool> ReleaseAsync(string endpoint, string name, string claimETag, CancellationToken cancellationToken) =>
        driver.DeleteIfMatchAsync(ClaimPath(endpoint, name), claimETag, cancellationToken);

    private static string ClaimPath(string endpoint, string name) => $"{Folder(endpoint)}/claims/{name}";
}
