using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Dbuild.Registry.Api;

internal sealed partial class DistributionHandler
{
    private async Task GetBlobAsync(HttpContext context, string name, string reference, CancellationToken cancellationToken)
    {
        Oci.Digest digest = ParseDigest(reference);
        long size = await storage.StatRepositoryBlobAsync(name, digest, cancellationToken).ConfigureAwait(false)
            ?? throw DistributionErrors.BlobUnknownError(reference);
        HttpResponse response = context.Response;
        response.Headers["Docker-Content-Digest"] = digest.ToString();
        response.Headers.CacheControl = "max-age=31536000";
        response.Headers.AcceptRanges = "bytes";
        string? localPath = storage.GetBlobLocalPath(digest);
        if (localPath is not null)
        {
            // Range, 206, 416, If-None-Match and HEAD are handled by the framework's file result.
            var file = TypedResults.PhysicalFile(localPath, "application/octet-stream", enableRangeProcessing: true,
                entityTag: new EntityTagHeaderValue($"\"{digest}\""));
            await file.ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        response.StatusCode = 200;
        response.ContentType = "application/octet-stream";
        response.ContentLength = size;
        if (HttpMethods.IsHead(context.Request.Method)) { return; }
        Stream? source = await storage.OpenBlobAsync(digest, 0, cancellationToken).ConfigureAwait(false)
            ?? throw DistributionErrors.BlobUnknownError(reference);
        await using (source.ConfigureAwait(false))
        {
            await source.CopyToAsync(response.Body, 1024 * 1024, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task DeleteBlobAsync(HttpContext context, string name, string reference, CancellationToken cancellationToken)
    {
        Oci.Digest digest = ParseDigest(reference);
        if (!_options.DeleteEnabled) { throw DistributionErrors.UnsupportedError("deletion is disabled (storage.delete.enabled)"); }
        if (!await storage.UnlinkLayerAsync(name, digest, cancellationToken).ConfigureAwait(false))
        {
            throw DistributionErrors.BlobUnknownError(reference);
        }
        Empty(context, 202);
    }
}
