using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Dbuild.Registry.Api;

internal sealed partial class DistributionHandler
{
    /// <summary>How long a redirect URL (an Azure SAS) stays valid; registry:2's azure driver uses 20 minutes.</summary>
    private static readonly TimeSpan RedirectLifetime = TimeSpan.FromMinutes(20);

    /// <summary>
    /// A blob GET or HEAD from a driver without local files: a 307 to the driver's short-lived URL when redirects are on,
    /// else the bytes through the registry with a single <c>Range</c> (206, or 416 past the end) and the digest as ETag.
    /// </summary>
    private async Task SendFromDriverAsync(HttpContext context, Oci.Digest digest, long size, CancellationToken cancellationToken)
    {
        HttpRequest request = context.Request;
        HttpResponse response = context.Response;
        string etag = $"\"{digest}\"";
        response.Headers.ETag = etag;
        if (!_options.RedirectDisabled && HttpMethods.IsGet(request.Method)
            && await storage.GetBlobDownloadUrlAsync(digest, RedirectLifetime, cancellationToken).ConfigureAwait(false) is { } url)
        {
            response.StatusCode = 307;
            response.Headers.Location = url.AbsoluteUri;
            return;
        }
        if (request.Headers.IfNoneMatch.Any(v => v is not null && (v.Contains(etag, StringComparison.Ordinal) || v.Trim() == "*")))
        {
            response.StatusCode = 304;
            return;
        }
        long offset = 0, length = size;
        if (TryGetSingleRange(request, size, out long first, out long last, out bool unsatisfiable))
        {
            if (unsatisfiable)
            {
                response.StatusCode = 416;
                response.Headers.ContentRange = $"bytes */{size}";
                return;
            }
            (offset, length) = (first, last - first + 1);
            response.StatusCode = 206;
            response.Headers.ContentRange = $"bytes {first}-{last}/{size}";
        }
        else
        {
            response.StatusCode = 200;
        }
        response.ContentType = "application/octet-stream";
        response.ContentLength = length;
        if (HttpMethods.IsHead(request.Method) || length == 0) { return; }
        Stream source = await storage.OpenBlobAsync(digest, offset, length, cancellationToken).ConfigureAwait(false)
            ?? throw DistributionErrors.BlobUnknownError(digest.ToString());
        await using (source.ConfigureAwait(false))
        {
            await source.CopyToAsync(response.Body, 1024 * 1024, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One <c>bytes=</c> range (<c>a-b</c>, <c>a-</c>, <c>-n</c>) clamped to the blob; several ranges, another unit or a
    /// malformed header are ignored (the whole blob is sent, as RFC 9110 allows). An <c>If-Range</c> that is not the
    /// blob's ETag also sends the whole blob.
    /// </summary>
    private static bool TryGetSingleRange(HttpRequest request, long size, out long first, out long last, out bool unsatisfiable)
    {
        first = last = 0;
        unsatisfiable = false;
        if (request.Headers.Range.Count == 0 || !RangeHeaderValue.TryParse(request.Headers.Range.ToString(), out RangeHeaderValue? range)
            || !string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase) || range.Ranges.Count != 1)
        {
            return false;
        }
        string? ifRange = request.Headers.IfRange;
        if (!string.IsNullOrEmpty(ifRange) && !ifRange.Contains(request.HttpContext.Response.Headers.ETag.ToString(), StringComparison.Ordinal)) { return false; }
        RangeItemHeaderValue item = range.Ranges.First();
        if (item.From is { } from)
        {
            if (from >= size) { unsatisfiable = true; return true; }
            (first, last) = (from, Math.Min(item.To ?? size - 1, size - 1));
            return true;
        }
        if (item.To is { } suffix && suffix > 0 && size > 0)
        {
            (first, last) = (Math.Max(size - suffix, 0), size - 1);
            return true;
        }
        unsatisfiable = true;
        return true;
    }
}
