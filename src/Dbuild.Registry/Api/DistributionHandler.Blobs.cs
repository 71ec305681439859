using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.Win32.SafeHandles;
using Microsoft.Net.Http.Headers;

namespace Dbuild.Registry.Api;

internal sealed partial class DistributionHandler
{
    private const int SendChunkSize = 256 * 1024;

    private async Task GetBlobAsync(HttpContext context, string name, string reference, CancellationToken cancellationToken)
    {
        Oci.Digest digest = ParseDigest(reference);
        long? stored = await storage.StatRepositoryBlobAsync(name, digest, cancellationToken).ConfigureAwait(false);
        if (stored is null && proxy.Route(name) is { } mirrored)
        {
            bool plainGet = HttpMethods.IsGet(context.Request.Method) && IsPlainGet(context.Request);
            if (await proxyBlobs.ServeAsync(context, mirrored, name, digest, plainGet, cancellationToken).ConfigureAwait(false)) { return; }
            stored = await storage.StatRepositoryBlobAsync(name, digest, cancellationToken).ConfigureAwait(false);
        }
        long size = stored ?? throw DistributionErrors.BlobUnknownError(reference);
        // The client may skip uploading it now: refresh its GC age (a blob GC is deleting is already gone for clients).
        if (!await storage.Markers.VouchAsync(digest, cancellationToken).ConfigureAwait(false)) { throw DistributionErrors.BlobUnknownError(reference); }
        await notifier.BlobAsync(context, Notifications.NotificationAction.Pull, name, digest, size).ConfigureAwait(false);
        HttpResponse response = context.Response;
        response.Headers["Docker-Content-Digest"] = digest.ToString();
        response.Headers.CacheControl = "max-age=31536000";
        response.Headers.AcceptRanges = "bytes";
        string? localPath = storage.GetBlobLocalPath(digest);
        if (localPath is not null && HttpMethods.IsGet(context.Request.Method) && IsPlainGet(context.Request))
        {
            await SendFileAsync(context, localPath, size, digest, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (localPath is not null)
        {
            // Range, 206, 416, If-None-Match and HEAD are handled by the framework's file result.
            var file = TypedResults.PhysicalFile(localPath, "application/octet-stream", enableRangeProcessing: true,
                entityTag: new EntityTagHeaderValue($"\"{digest}\""));
            await file.ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        await SendFromDriverAsync(context, digest, size, cancellationToken).ConfigureAwait(false);
    }

    private static bool IsPlainGet(HttpRequest request) =>
        request.Headers.Range.Count == 0 && request.Headers.IfNoneMatch.Count == 0 && request.Headers.IfMatch.Count == 0
        && request.Headers.IfModifiedSince.Count == 0 && request.Headers.IfUnmodifiedSince.Count == 0 && request.Headers.IfRange.Count == 0;

    /// <summary>
    /// The whole-blob GET: file bytes are read straight into Kestrel's response pipe (one copy, large writes) instead of
    /// through an intermediate stream buffer. Ranges and conditional requests take the framework's file result.
    /// </summary>
    private static async Task SendFileAsync(HttpContext context, string path, long size, Oci.Digest digest, CancellationToken cancellationToken)
    {
        SafeFileHandle handle;
        try { handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { throw DistributionErrors.BlobUnknownError(digest.ToString()); }
        using (handle)
        {
            HttpResponse response = context.Response;
            response.StatusCode = 200;
            response.ContentType = "application/octet-stream";
            response.ContentLength = size;
            response.Headers.ETag = $"\"{digest}\"";
            PipeWriter writer = response.BodyWriter;
            long offset = 0;
            while (offset < size)
            {
                Memory<byte> memory = writer.GetMemory(SendChunkSize);
                int wanted = (int)Math.Min(memory.Length, size - offset);
                int read = await RandomAccess.ReadAsync(handle, memory[..wanted], offset, cancellationToken).ConfigureAwait(false);
                if (read == 0) { break; } // truncated underneath us; Kestrel aborts the response for the short body
                writer.Advance(read);
                offset += read;
                FlushResult flushed = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled) { break; }
            }
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
        await notifier.DeletedAsync(context, name, digest, null).ConfigureAwait(false);
    }
}
