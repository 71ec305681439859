using System.Net;
using System.Net.Http.Headers;
using Dbuild.Oci;
using Dbuild.Registry.Client.Resilience;

namespace Dbuild.Registry.Client;

public sealed partial class RegistryClient
{
    /// <summary>
    /// Pushes an image: blobs the registry lacks go up in parallel (bounded by <see cref="RegistryClientOptions.MaxParallelUploads"/>),
    /// then the manifests in order, last one last: every manifest but the last is pushed by digest, the last (the
    /// image manifest or the index over the others) under each tag, so no tag names content the registry lacks.
    /// </summary>
    /// <returns>The digest of the last manifest.</returns>
    public async Task<Digest> PushImageAsync(string registry, string repository, IReadOnlyList<BlobUpload> blobs, IReadOnlyList<ManifestUpload> manifests,
        IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(manifests);
        ArgumentNullException.ThrowIfNull(tags);
        if (manifests.Count == 0) { throw new ArgumentException("An image push needs at least one manifest.", nameof(manifests)); }
        var unique = blobs.DistinctBy(b => b.Digest).ToList();
        await Parallel.ForEachAsync(unique, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.MaxParallelUploads), CancellationToken = cancellationToken },
            async (blob, token) => await PushBlobAsync(registry, repository, blob, token).ConfigureAwait(false)).ConfigureAwait(false);
        for (int i = 0; i < manifests.Count - 1; i++)
        {
            await PushManifestAsync(registry, repository, manifests[i].Digest.ToString(), manifests[i], cancellationToken).ConfigureAwait(false);
        }
        ManifestUpload root = manifests[^1];
        if (tags.Count == 0) { await PushManifestAsync(registry, repository, root.Digest.ToString(), root, cancellationToken).ConfigureAwait(false); }
        foreach (string tag in tags) { await PushManifestAsync(registry, repository, tag, root, cancellationToken).ConfigureAwait(false); }
        return root.Digest;
    }

    /// <summary>
    /// Pushes one blob unless the repository has it (HEAD); mounts it from <see cref="BlobUpload.MountFrom"/> when the
    /// registry allows (with a token for both repositories; a source the credentials cannot read means an upload);
    /// otherwise uploads it in one PUT, or in PATCH chunks when <see cref="RegistryClientOptions.ChunkSize"/> is set.
    /// Transient failures restart the upload (a new POST: a request that started or streamed an upload is never sent
    /// twice), up to <see cref="RegistryClientOptions.MaxAttempts"/> times.
    /// </summary>
    public async Task<BlobPushOutcome> PushBlobAsync(string registry, string repository, BlobUpload blob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return await RegistryRetry.ExecuteAsync(_blobRetry, registry,
            async token => await PushBlobOnceAsync(registry, repository, blob, retryRequests: true, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="PushBlobAsync"/> in a single attempt, nothing retried: for a best-effort upload whose caller pushes
    /// the blob again the usual way if this one fails (a build uploading layers before its push).
    /// </summary>
    public Task<BlobPushOutcome> PushBlobOnceAsync(string registry, string repository, BlobUpload blob, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return PushBlobOnceAsync(registry, repository, blob, retryRequests: false, cancellationToken);
    }

    private async Task<BlobPushOutcome> PushBlobOnceAsync(string registry, string repository, BlobUpload blob, bool retryRequests, CancellationToken cancellationToken)
    {
        string action = $"Pushing {blob.Digest} to {registry}/{repository}";
        string[] scopes = blob.MountFrom is { } from && from != repository
            ? [PushScope(repository), PullScope(from)]
            : [PushScope(repository)];
        Uri blobUri = RepositoryUri(registry, repository, "blobs/" + blob.Digest);
        using (HttpResponseMessage head = await SendAsync(registry, scopes, () => new HttpRequestMessage(HttpMethod.Head, blobUri),
            HttpCompletionOption.ResponseHeadersRead, retry: retryRequests, cancellationToken).ConfigureAwait(false))
        {
            if (head.IsSuccessStatusCode)
            {
                Log.BlobExists(_logger, blob.Digest, repository);
                return BlobPushOutcome.AlreadyExists;
            }
        }

        string start = "blobs/uploads/";
        bool mounting = blob.MountFrom is { } source && source != repository;
        if (mounting) { start += $"?mount={Uri.EscapeDataString(blob.Digest.ToString())}&from={Uri.EscapeDataString(blob.MountFrom!)}"; }
        Uri startUri = RepositoryUri(registry, repository, start);
        Uri location;
        HttpResponseMessage started = await StartUploadAsync(registry, scopes, startUri, cancellationToken).ConfigureAwait(false);
        if (mounting && started.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            // registry:2 authorizes a mount POST for pull on the source too and refuses it whole when the token lacks
            // that: the credentials cannot read the source, so upload the blob instead (as docker does).
            started.Dispose();
            mounting = false;
            scopes = [PushScope(repository)];
            startUri = RepositoryUri(registry, repository, "blobs/uploads/");
            started = await StartUploadAsync(registry, scopes, startUri, cancellationToken).ConfigureAwait(false);
        }
        using (started)
        {
            if (mounting && started.StatusCode == HttpStatusCode.Created)
            {
                Log.BlobMounted(_logger, blob.Digest, repository, blob.MountFrom!);
                return BlobPushOutcome.Mounted;
            }
            if (started.StatusCode != HttpStatusCode.Accepted)
            {
                throw await ErrorAsync(started, action, registry, cancellationToken).ConfigureAwait(false);
            }
            location = LocationOf(started, startUri, action);
        }

        if (_options.ChunkSize is { } chunk && chunk > 0 && blob.Size > chunk)
        {
            location = await UploadChunksAsync(registry, scopes, blob, location, chunk, action, cancellationToken).ConfigureAwait(false);
            Uri finish = WithDigest(location, blob.Digest);
            using HttpResponseMessage done = await SendAsync(registry, scopes, () => new HttpRequestMessage(HttpMethod.Put, finish) { Content = EmptyOctets() },
                HttpCompletionOption.ResponseContentRead, retry: false, cancellationToken).ConfigureAwait(false);
            if (done.StatusCode != HttpStatusCode.Created) { throw await ErrorAsync(done, action, registry, cancellationToken).ConfigureAwait(false); }
        }
        else
        {
            Uri put = WithDigest(location, blob.Digest);
            using HttpResponseMessage done = await SendAsync(registry, scopes, () =>
            {
                var content = new StreamContent(blob.OpenRead(), 128 * 1024);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                content.Headers.ContentLength = blob.Size;
                return new HttpRequestMessage(HttpMethod.Put, put) { Content = content };
            }, HttpCompletionOption.ResponseContentRead, retry: false, cancellationToken).ConfigureAwait(false);
            if (done.StatusCode != HttpStatusCode.Created) { throw await ErrorAsync(done, action, registry, cancellationToken).ConfigureAwait(false); }
        }
        Log.BlobUploaded(_logger, blob.Digest, blob.Size, repository);
        return BlobPushOutcome.Uploaded;
    }

    private async Task<HttpResponseMessage> StartUploadAsync(string registry, string[] scopes, Uri startUri, CancellationToken cancellationToken) =>
        await SendAsync(registry, scopes, () => new HttpRequestMessage(HttpMethod.Post, startUri) { Content = new ByteArrayContent([]) },
            HttpCompletionOption.ResponseContentRead, retry: false, cancellationToken).ConfigureAwait(false);

    private async Task<Uri> UploadChunksAsync(string registry, string[] scopes, BlobUpload blob, Uri location, long chunkSize, string action,
        CancellationToken cancellationToken)
    {
        Stream source = blob.OpenRead();
        await using (source.ConfigureAwait(false))
        {
            byte[] buffer = new byte[(int)Math.Min(chunkSize, 64L * 1024 * 1024)];
            long offset = 0;
            while (offset < blob.Size)
            {
                int filled = 0;
                int read;
                while (filled < buffer.Length && (read = await source.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0) { filled += read; }
                if (filled == 0) { throw new InvalidContentException($"Blob {blob.Digest} ended after {offset} of {blob.Size} bytes while pushing it."); }
                long first = offset;
                Uri target = location;
                int length = filled;
                using HttpResponseMessage response = await SendAsync(registry, scopes, () =>
                {
                    var content = new ByteArrayContent(buffer, 0, length);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    content.Headers.ContentLength = length;
                    content.Headers.TryAddWithoutValidation("Content-Range", $"{first}-{first + length - 1}");
                    return new HttpRequestMessage(HttpMethod.Patch, target) { Content = content };
                }, HttpCompletionOption.ResponseContentRead, retry: false, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.Accepted) { throw await ErrorAsync(response, action, registry, cancellationToken).ConfigureAwait(false); }
                location = LocationOf(response, location, action);
                offset += filled;
            }
        }
        return location;
    }

    /// <summary>Pushes a manifest byte for byte under a tag or its digest; returns its digest.</summary>
    public async Task<Digest> PushManifestAsync(string registry, string repository, string reference, ManifestUpload manifest,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        _ = await PutManifestAsync(registry, repository, reference, manifest, cancellationToken).ConfigureAwait(false);
        return manifest.Digest;
    }

    /// <summary>PUTs a manifest; returns the registry's <c>OCI-Subject</c> header (set only by registries with the referrers API).</summary>
    private async Task<string?> PutManifestAsync(string registry, string repository, string reference, ManifestUpload manifest, CancellationToken cancellationToken)
    {
        Uri uri = RepositoryUri(registry, repository, "manifests/" + reference);
        using HttpResponseMessage response = await SendAsync(registry, [PushScope(repository)], () =>
        {
            var content = new ReadOnlyMemoryContent(manifest.Content);
            content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            return new HttpRequestMessage(HttpMethod.Put, uri) { Content = content };
        }, HttpCompletionOption.ResponseContentRead, retry: true, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw await ErrorAsync(response, $"Pushing manifest {manifest.Digest} to {registry}/{repository}:{reference}", registry, cancellationToken).ConfigureAwait(false);
        }
        Log.ManifestPushed(_logger, manifest.Digest, repository, reference);
        return response.Headers.TryGetValues("OCI-Subject", out IEnumerable<string>? subject) ? subject.FirstOrDefault() : null;
    }

    private static ByteArrayContent EmptyOctets()
    {
        var content = new ByteArrayContent([]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    private static Uri LocationOf(HttpResponseMessage response, Uri requestUri, string action) =>
        response.Headers.Location is { } location
            ? (location.IsAbsoluteUri ? location : new Uri(requestUri, location))
            : throw new RegistryException($"{action} failed: the registry started an upload without a Location header.", response.StatusCode, null, false);

    private static Uri WithDigest(Uri location, Digest digest)
    {
        string separator = string.IsNullOrEmpty(location.Query) ? "?" : "&";
        return new Uri(location.AbsoluteUri + separator + "digest=" + Uri.EscapeDataString(digest.ToString()));
    }
}
