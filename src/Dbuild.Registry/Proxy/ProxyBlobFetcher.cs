using System.IO.Pipelines;
using Dbuild.Oci;
using Dbuild.Registry.Api;
using Dbuild.Registry.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Proxy;

/// <summary>
/// Blobs of a mirrored repository that the cache does not have yet. A HEAD is answered from upstream's HEAD; a plain
/// GET streams upstream's bytes to the client while storing them, one pass (<see cref="HoldBackTeeStream"/>); a ranged
/// or conditional GET first stores the whole blob and then leaves it to the ordinary local path. The bytes go through an
/// ordinary upload, so the digest is verified before anything is committed, and a fetch that fails leaves nothing but
/// an upload the purger removes.
/// </summary>
internal sealed class ProxyBlobFetcher(RegistryStorage storage, ILogger<ProxyBlobFetcher> logger)
{
    private const int ChunkSize = 256 * 1024;

    /// <summary>
    /// Returns true when the response is written (HEAD, or the streamed GET); false when the blob is now stored and
    /// linked to <paramref name="name"/> and the caller serves it. Throws BLOB_UNKNOWN when upstream has no such blob,
    /// UNKNOWN (500) when upstream fails before the response started.
    /// </summary>
    public async Task<bool> ServeAsync(HttpContext context, ProxyRoute route, string name, Digest digest, bool streamToClient, CancellationToken cancellationToken)
    {
        long size = await UpstreamAsync(route, name, digest, r => r.Upstream.StatBlobAsync(r.RemoteName, digest, cancellationToken)).ConfigureAwait(false)
            ?? throw DistributionErrors.BlobUnknownError(digest.ToString());
        if (await storage.StatBlobAsync(digest, cancellationToken).ConfigureAwait(false) is not null)
        {
            // Cached for another repository already; upstream just confirmed this one has it too.
            await storage.LinkLayerAsync(name, digest, cancellationToken).ConfigureAwait(false);
            return false;
        }
        if (HttpMethods.IsHead(context.Request.Method))
        {
            Headers(context.Response, digest, size);
            return true;
        }
        await FetchAsync(streamToClient ? context : null, route, name, digest, size).ConfigureAwait(false);
        return streamToClient;
    }

    private async Task FetchAsync(HttpContext? client, ProxyRoute route, string name, Digest digest, long size)
    {
        // Not the request's token: a client that leaves does not stop the fetch (the blob is finished and kept). Every
        // read from upstream has its own timeout, so the fetch cannot hang.
        CancellationToken fetching = CancellationToken.None;
        Stream source = await UpstreamAsync(route, name, digest, r => r.Upstream.OpenBlobAsync(r.RemoteName, digest, size, fetching)).ConfigureAwait(false)
            ?? throw DistributionErrors.BlobUnknownError(digest.ToString());
        var tee = new HoldBackTeeStream(source, client?.Response, UpstreamClient.ReadTimeout);
        await using (tee.ConfigureAwait(false))
        {
            string id = await storage.StartUploadAsync(name, fetching).ConfigureAwait(false);
            try
            {
                if (client is not null) { Headers(client.Response, digest, size); }
                PipeReader reader = PipeReader.Create(tee, new StreamPipeReaderOptions(bufferSize: ChunkSize, minimumReadSize: ChunkSize / 4, leaveOpen: true));
                try { await storage.AppendUploadAsync(name, id, reader, 0, fetching).ConfigureAwait(false); }
                finally { await reader.CompleteAsync().ConfigureAwait(false); }
                (Digest actual, long stored) = await storage.CompleteUploadAsync(name, id, digest, fetching).ConfigureAwait(false)
                    ?? throw new IOException($"the upload {id} that held the blob vanished");
                if (actual != digest) { throw new DigestMismatchException(digest, actual); }
                Log.ProxyBlobCached(logger, name, digest, stored, route.Upstream.Upstream.ToString(), tee.ClientGone && client is not null);
                await tee.ReleaseAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DigestMismatchException or InvalidContentException or IOException or HttpRequestException or TimeoutException)
            {
                await storage.CancelUploadAsync(name, id, CancellationToken.None).ConfigureAwait(false);
                UpstreamUnavailableException failure = route.Upstream.Unavailable($"blob {digest} after {tee.BytesRead} of {size} bytes", ex);
                Log.ProxyUpstreamFailed(logger, name, digest.ToString(), failure.Message);
                if (client is { Response.HasStarted: true })
                {
                    client.Abort(); // the client must not take a short or wrong body for the blob
                    return;
                }
                throw DistributionErrors.UpstreamError(failure.Message);
            }
        }
    }

    private async Task<T?> UpstreamAsync<T>(ProxyRoute route, string name, Digest digest, Func<ProxyRoute, Task<T?>> call)
    {
        try { return await call(route).ConfigureAwait(false); }
        catch (UpstreamUnavailableException ex)
        {
            Log.ProxyUpstreamFailed(logger, name, digest.ToString(), ex.Message);
            throw DistributionErrors.UpstreamError(ex.Message);
        }
    }

    private static void Headers(HttpResponse response, Digest digest, long size)
    {
        response.StatusCode = 200;
        response.ContentType = "application/octet-stream";
        response.ContentLength = size;
        response.Headers["Docker-Content-Digest"] = digest.ToString();
        response.Headers.ETag = $"\"{digest}\"";
        response.Headers.AcceptRanges = "bytes";
    }
}
