using System.Globalization;
using Dbuild.Oci;
using Dbuild.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Dbuild.Registry.Api;

internal sealed partial class DistributionHandler
{
    private async Task StartUploadAsync(HttpContext context, string name, CancellationToken cancellationToken)
    {
        IQueryCollection query = context.Request.Query;
        if (query.TryGetValue("mount", out var mountValue))
        {
            Digest mount = ParseDigest(mountValue.ToString());
            string? from = query.TryGetValue("from", out var fromValue) ? fromValue.ToString() : null;
            if (from is not null && !DistributionPath.IsValidName(from)) { throw DistributionErrors.NameInvalidError(from); }
            long? available = from is not null
                ? await storage.StatRepositoryBlobAsync(from, mount, cancellationToken).ConfigureAwait(false)
                : await storage.StatBlobAsync(mount, cancellationToken).ConfigureAwait(false);
            if (available is { } mountedSize && await storage.Markers.VouchAsync(mount, cancellationToken).ConfigureAwait(false))
            {
                await CheckMountQuotaAsync(name, mount, cancellationToken).ConfigureAwait(false);
                await storage.LinkLayerAsync(name, mount, cancellationToken).ConfigureAwait(false);
                Created(context, name, mount);
                await notifier.BlobAsync(context, Notifications.NotificationAction.Mount, name, mount, mountedSize, from).ConfigureAwait(false);
                return;
            }
            // Not mountable: fall through to an ordinary upload session, as the spec says.
        }
        if (query.TryGetValue("digest", out var digestValue))
        {
            Digest expected = ParseDigest(digestValue.ToString());
            LiftBodyLimit(context);
            string monolithic = await storage.StartUploadAsync(name, cancellationToken).ConfigureAwait(false);
            (_, long size) = await storage.AppendUploadAsync(name, monolithic, context.Request.BodyReader, null, cancellationToken).ConfigureAwait(false);
            CountBytesIn(context, size);
            await FinishAsync(context, name, monolithic, expected, cancellationToken).ConfigureAwait(false);
            return;
        }
        string id = await storage.StartUploadAsync(name, cancellationToken).ConfigureAwait(false);
        SessionHeaders(context, name, id, 0);
        Empty(context, 202);
    }

    private async Task GetUploadStatusAsync(HttpContext context, string name, string id, CancellationToken cancellationToken)
    {
        SessionHeaders(context, name, id, await CurrentSizeAsync(name, id, cancellationToken).ConfigureAwait(false));
        Empty(context, 204);
    }

    private async Task PatchUploadAsync(HttpContext context, string name, string id, CancellationToken cancellationToken)
    {
        long size = await AppendAsync(context, name, id, cancellationToken).ConfigureAwait(false);
        SessionHeaders(context, name, id, size);
        Empty(context, 202);
    }

    private async Task CompleteUploadAsync(HttpContext context, string name, string id, CancellationToken cancellationToken)
    {
        if (!context.Request.Query.TryGetValue("digest", out var digestValue))
        {
            throw new DistributionException(DistributionErrors.DigestInvalid, "the digest query parameter is required to complete an upload", 400);
        }
        Digest expected = ParseDigest(digestValue.ToString());
        bool hasBody = context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0;
        if (hasBody) { await AppendAsync(context, name, id, cancellationToken).ConfigureAwait(false); }
        await FinishAsync(context, name, id, expected, cancellationToken).ConfigureAwait(false);
    }

    private async Task CancelUploadAsync(HttpContext context, string name, string id, CancellationToken cancellationToken)
    {
        if (!await storage.CancelUploadAsync(name, id, cancellationToken).ConfigureAwait(false)) { throw DistributionErrors.BlobUploadUnknownError(id); }
        Empty(context, 204);
    }

    private async Task FinishAsync(HttpContext context, string name, string id, Digest expected, CancellationToken cancellationToken)
    {
        await CheckUploadQuotaAsync(name, id, expected, cancellationToken).ConfigureAwait(false);
        (Digest actual, long size) = await storage.CompleteUploadAsync(name, id, expected, cancellationToken).ConfigureAwait(false)
            ?? throw DistributionErrors.BlobUploadUnknownError(id);
        if (actual != expected) { throw DistributionErrors.DigestInvalidError($"the content's digest is {actual}, not {expected}"); }
        Created(context, name, actual);
        await notifier.BlobAsync(context, Notifications.NotificationAction.Push, name, actual, size).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams the body into the upload, honouring an optional <c>Content-Range: start-end</c>. The upload's state is
    /// read once, by the append, which also checks the start; only a malformed range reads the size for its answer.
    /// </summary>
    private async Task<long> AppendAsync(HttpContext context, string name, string id, CancellationToken cancellationToken)
    {
        long? start = null;
        string? contentRange = context.Request.Headers.ContentRange;
        if (!string.IsNullOrEmpty(contentRange))
        {
            if (!TryParseContentRange(contentRange, out long first, out long last))
            {
                RangeFailed(context, name, id, await CurrentSizeAsync(name, id, cancellationToken).ConfigureAwait(false), $"'{contentRange}' is not start-end");
            }
            if (context.Request.ContentLength is { } length && length != last - first + 1)
            {
                RangeFailed(context, name, id, await CurrentSizeAsync(name, id, cancellationToken).ConfigureAwait(false),
                    $"Content-Length {length} does not match the range {first}-{last}");
            }
            start = first;
        }
        LiftBodyLimit(context);
        try
        {
            (long before, long size) = await storage.AppendUploadAsync(name, id, context.Request.BodyReader, start, cancellationToken).ConfigureAwait(false);
            CountBytesIn(context, size - before);
            return size;
        }
        catch (UploadOffsetException ex)
        {
            RangeFailed(context, name, id, ex.Size, $"the chunk starts at {start} but the upload holds {ex.Size} bytes");
            throw;
        }
    }

    private async Task<long> CurrentSizeAsync(string name, string id, CancellationToken cancellationToken) =>
        await storage.GetUploadSizeAsync(name, id, cancellationToken).ConfigureAwait(false) ?? throw DistributionErrors.BlobUploadUnknownError(id);

    private static void RangeFailed(HttpContext context, string name, string id, long size, string why)
    {
        SessionHeaders(context, name, id, size);
        throw DistributionErrors.RangeInvalidError(why);
    }

    internal static bool TryParseContentRange(string value, out long first, out long last)
    {
        first = last = 0;
        ReadOnlySpan<char> span = value.AsSpan().Trim();
        if (span.StartsWith("bytes", StringComparison.OrdinalIgnoreCase)) { span = span[5..].TrimStart(" =".AsSpan()); }
        int dash = span.IndexOf('-');
        return dash > 0
            && long.TryParse(span[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out first)
            && long.TryParse(span[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out last)
            && last >= first;
    }

    private static void SessionHeaders(HttpContext context, string name, string id, long size)
    {
        HttpResponse response = context.Response;
        response.Headers.Location = $"/v2/{name}/blobs/uploads/{id}";
        response.Headers["Docker-Upload-UUID"] = id;
        // registry:2 reports an empty upload as 0-0; clients resume from the end of the range.
        response.Headers.Range = $"0-{Math.Max(size - 1, 0)}";
    }

    private static void Created(HttpContext context, string name, Digest digest)
    {
        context.Response.Headers.Location = $"/v2/{name}/blobs/{digest}";
        context.Response.Headers["Docker-Content-Digest"] = digest.ToString();
        Empty(context, 201);
    }
}
