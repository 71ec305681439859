using System.Globalization;
using System.Text;
using Dbuild.Oci;

namespace Dbuild.Registry.Storage;

/// <summary>
/// The age of a digest for online garbage collection: one small item per digest under
/// <c>docker/registry/v2/_dbuild/gc/markers/sha256/ab/ab…</c> (outside the trees registry:2 walks), holding either
/// <c>vouched TIME</c> (the last time a request told a client the blob exists, refreshed at most every grace/4) or
/// <c>condemned TIME</c> (a GC pass is deleting it). Every change is a conditional write, so a vouch and a
/// condemnation of the same digest never both win. See docs/registry-gc.md for why this makes the sweep safe.
/// </summary>
internal sealed class BlobMarkers(IStorageDriver store, TimeProvider timeProvider, bool enabled, TimeSpan grace)
{
    internal const string Root = "docker/registry/v2/_dbuild/gc/markers";
    private const string Vouched = "vouched ";
    private const string Condemned = "condemned ";
    private const int MaxMarkerBytes = 256;
    private const int MaxAttempts = 8;

    /// <summary>Whether requests vouch at all (<c>storage.maintenance.gc.enabled</c>); off, every vouch succeeds without I/O.</summary>
    public bool Enabled => enabled;

    /// <summary>A marker younger than this is not rewritten: hot blobs cost one small read per request, not a write.</summary>
    public TimeSpan RefreshAfter { get; } = grace / 4;

    internal static string MarkerPath(Digest digest) => $"{Root}/{digest.Algorithm}/{digest.Encoded[..2]}/{digest.Encoded}";

    public async Task<BlobMarker> ReadAsync(Digest digest, CancellationToken cancellationToken)
    {
        StorageContent? content;
        try { content = await store.ReadAllAsync(MarkerPath(digest), MaxMarkerBytes, cancellationToken).ConfigureAwait(false); }
        catch (InvalidDataException) { return new BlobMarker(true, false, DateTimeOffset.MinValue, null); }
        if (content is null) { return BlobMarker.None; }
        string text = Encoding.UTF8.GetString(content.Content).Trim();
        bool condemned = text.StartsWith(Condemned, StringComparison.Ordinal);
        string time = condemned ? text[Condemned.Length..] : text.StartsWith(Vouched, StringComparison.Ordinal) ? text[Vouched.Length..] : "";
        // An unreadable time is old: it never protects a blob longer than a real one would.
        DateTimeOffset when = DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed)
            ? parsed : DateTimeOffset.MinValue;
        return new BlobMarker(true, condemned, when, content.ETag);
    }

    /// <summary>
    /// Records that a client is being told <paramref name="digest"/> exists. Returns false when a GC pass has condemned
    /// it (the caller answers as if the blob were missing). Rewrites the marker only when it is older than
    /// <see cref="RefreshAfter"/>.
    /// </summary>
    public async Task<bool> VouchAsync(Digest digest, CancellationToken cancellationToken)
    {
        if (!enabled) { return true; }
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            BlobMarker marker = await ReadAsync(digest, cancellationToken).ConfigureAwait(false);
            if (marker.Condemned) { return false; }
            DateTimeOffset now = timeProvider.GetUtcNow();
            if (marker.Exists && marker.ETag is not null && now - marker.Time < RefreshAfter) { return true; }
            WriteCondition condition = marker.ETag is { } etag ? WriteCondition.IfMatch(etag) : WriteCondition.IfAbsent;
            if (await WriteAsync(digest, Vouched, now, condition, cancellationToken).ConfigureAwait(false) is not null) { return true; }
            // Someone else wrote it meanwhile (another vouch, or a condemnation): look again.
        }
        throw new IOException($"The GC marker of {digest} kept changing; retry the request.");
    }

    /// <summary>
    /// Before a blob is (re)created: waits (bounded) until a GC pass that condemned it has finished deleting it, then vouches.
    /// </summary>
    public async Task VouchForWriteAsync(Digest digest, CancellationToken cancellationToken)
    {
        if (!enabled) { return; }
        for (int attempt = 0; attempt < 600; attempt++)
        {
            if (await VouchAsync(digest, cancellationToken).ConfigureAwait(false)) { return; }
            await Task.Delay(TimeSpan.FromMilliseconds(50), timeProvider, cancellationToken).ConfigureAwait(false);
        }
        throw new IOException($"{digest} is being garbage collected; retry the upload.");
    }

    /// <summary>Marks the digest as being deleted, only if its marker is still <paramref name="seen"/>. Returns the new ETag, or null.</summary>
    public Task<string?> CondemnAsync(Digest digest, BlobMarker seen, CancellationToken cancellationToken) =>
        WriteAsync(digest, Condemned, timeProvider.GetUtcNow(), seen.ETag is { } etag ? WriteCondition.IfMatch(etag) : WriteCondition.IfAbsent, cancellationToken);

    /// <summary>Removes a condemnation once the deletion is done (or abandoned); a marker rewritten since stays.</summary>
    public Task ReleaseAsync(Digest digest, string etag, CancellationToken cancellationToken) =>
        store.DeleteIfMatchAsync(MarkerPath(digest), etag, cancellationToken);

    private Task<string?> WriteAsync(Digest digest, string kind, DateTimeOffset time, WriteCondition condition, CancellationToken cancellationToken) =>
        store.WriteAsync(MarkerPath(digest), Encoding.UTF8.GetBytes(kind + time.ToString("O", CultureInfo.InvariantCulture)), condition, cancellationToken);
}

/// <summary>A digest's marker as read: missing, vouched at <see cref="Time"/>, or condemned at <see cref="Time"/>.</summary>
internal readonly record struct BlobMarker(bool Exists, bool Condemned, DateTimeOffset Time, string? ETag)
{
    public static BlobMarker None => new(false, false, DateTimeOffset.MinValue, null);
}
