using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dbuild.Oci;

namespace Dbuild.Registry.Client;

public sealed partial class RegistryClient
{
    private static readonly string[] ManifestAccept = [.. MediaTypes.AllManifestTypes];

    /// <summary>
    /// Fetches a manifest or index by tag or digest with every manifest type in <c>Accept</c>. A digest reference is
    /// verified against the bytes; for a tag the digest is computed from the bytes (the registry's header is only checked).
    /// </summary>
    public async Task<ManifestResponse> GetManifestAsync(string registry, string repository, string reference, CancellationToken cancellationToken = default)
    {
        Uri uri = RepositoryUri(registry, repository, "manifests/" + reference);
        string action = $"Pulling manifest {reference} from {registry}/{repository}";
        using HttpResponseMessage response = await SendPullAsync(registry, repository, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            foreach (string type in ManifestAccept) { request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type)); }
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) { throw await ErrorAsync(response, action, registry, cancellationToken).ConfigureAwait(false); }
        if (response.Content.Headers.ContentLength > _options.MaxManifestBytes)
        {
            throw new RegistryException($"{action} failed: the manifest is larger than {_options.MaxManifestBytes} bytes.", response.StatusCode, "SIZE_INVALID", false);
        }
        byte[] content = await ReadCappedAsync(response, registry, uri, action, cancellationToken).ConfigureAwait(false);
        Digest actual = Digest.Compute(content);
        if (Digest.TryParse(reference, out Digest wanted) && wanted != actual) { throw new DigestMismatchException(wanted, actual); }
        string mediaType = response.Content.Headers.ContentType?.MediaType is { Length: > 0 } header && header != "application/json"
            ? header : SniffMediaType(content);
        return new ManifestResponse(actual, mediaType, content);
    }

    private async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, string registry, Uri uri, string action, CancellationToken cancellationToken)
    {
        Stream stream = await TimedBodyAsync(response, registry, uri, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream(); // manifests are the one buffered content, under a cap
            byte[] chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > _options.MaxManifestBytes)
                {
                    throw new RegistryException($"{action} failed: the manifest is larger than {_options.MaxManifestBytes} bytes.", response.StatusCode, "SIZE_INVALID", false);
                }
            }
            return buffer.ToArray();
        }
    }

    /// <summary>The media type a manifest declares in its own <c>mediaType</c> field (OCI manifests may omit it: then index or manifest by shape).</summary>
    public static string SniffMediaType(ReadOnlySpan<byte> content)
    {
        try
        {
            var reader = new Utf8JsonReader(content);
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            JsonElement root = document.RootElement;
            if (root.TryGetProperty("mediaType", out JsonElement mt) && mt.GetString() is { Length: > 0 } declared) { return declared; }
            return root.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex : MediaTypes.OciManifest;
        }
        catch (JsonException ex)
        {
            throw new InvalidContentException("The registry served a manifest that is not JSON.", ex);
        }
    }

    /// <summary>
    /// Resolves a tag or digest to the image manifest for <paramref name="platform"/>: a single manifest is returned
    /// as is, an index or manifest list is narrowed to its best match (<see cref="Platform.PickBest"/>).
    /// </summary>
    public async Task<ResolvedImage> ResolveImageAsync(string registry, string repository, string reference, Platform platform,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ManifestResponse top = await GetManifestAsync(registry, repository, reference, cancellationToken).ConfigureAwait(false);
        if (!MediaTypes.IsIndex(top.MediaType)) { return new ResolvedImage(top, null); }
        ImageIndex index = ImageIndex.Parse(top.Content.Span);
        Descriptor picked = platform.PickBest(index.Manifests) ?? throw NoMatchingPlatform(registry, repository, reference, top.Digest, index, platform);
        ManifestResponse image = await GetManifestAsync(registry, repository, picked.Digest.ToString(), cancellationToken).ConfigureAwait(false);
        return new ResolvedImage(image, top);
    }

    /// <summary>
    /// BuildKit's error for an index without the platform (<c>no match for platform in manifest …: not found</c>), naming
    /// the platforms the index does have.
    /// </summary>
    private static RegistryException NoMatchingPlatform(string registry, string repository, string reference, Digest indexDigest, ImageIndex index, Platform platform)
    {
        string name = $"{registry}/{repository}{(Digest.TryParse(reference, out _) ? "@" : ":")}{reference}";
        string has = string.Join(", ", index.Manifests.Where(m => m.Platform is not null).Select(m => m.Platform!.ToString()).Distinct().DefaultIfEmpty("none"));
        return new RegistryException($"{name}: no match for platform {platform} in manifest {indexDigest}: not found; the index has {has}.",
            HttpStatusCode.NotFound, "MANIFEST_UNKNOWN", isTransient: false);
    }

    /// <summary>True when the repository has the manifest or index (<c>HEAD</c> by tag or digest).</summary>
    public async Task<bool> ManifestExistsAsync(string registry, string repository, string reference, CancellationToken cancellationToken = default)
    {
        using HttpResponseMessage response = await HeadManifestAsync(registry, repository, reference, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) { return false; }
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, $"Checking manifest {reference} in {registry}/{repository}", registry, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>The size of a blob if the repository has it (<c>HEAD</c>), otherwise null.</summary>
    public async Task<long?> StatBlobAsync(string registry, string repository, Digest digest, CancellationToken cancellationToken = default)
    {
        Uri uri = RepositoryUri(registry, repository, "blobs/" + digest);
        using HttpResponseMessage response = await SendAsync(registry, [PullScope(repository)], () => new HttpRequestMessage(HttpMethod.Head, uri),
            HttpCompletionOption.ResponseHeadersRead, retry: true, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) { return null; }
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, $"Checking blob {digest} in {registry}/{repository}", registry, cancellationToken).ConfigureAwait(false);
        }
        return response.Content.Headers.ContentLength ?? 0;
    }

    /// <summary>
    /// Opens a blob for streaming (headers read, body not buffered). The stream verifies the digest (and
    /// <paramref name="expectedSize"/>, when given) as it reaches its end and throws <see cref="DigestMismatchException"/> on a mismatch.
    /// </summary>
    public async Task<Stream> OpenBlobAsync(string registry, string repository, Digest digest, long? expectedSize = null,
        CancellationToken cancellationToken = default)
    {
        Uri uri = RepositoryUri(registry, repository, "blobs/" + digest);
        HttpResponseMessage response = await SendPullAsync(registry, repository, () => new HttpRequestMessage(HttpMethod.Get, uri),
            HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await ErrorAsync(response, $"Pulling blob {digest} from {registry}/{repository}", registry, cancellationToken).ConfigureAwait(false);
            }
            Stream body = await ResumableBlobBodyAsync(response, registry, repository, digest, uri, cancellationToken).ConfigureAwait(false);
            // Disposing the body releases the response's connection (the last one, after resumes).
            return new DigestingReadStream(body, digest) { ExpectedSize = expectedSize };
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Streams a blob into <paramref name="destination"/> through a fixed buffer, verifying its digest; returns its size.</summary>
    public async Task<long> CopyBlobAsync(string registry, string repository, Digest digest, Stream destination, long? expectedSize = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Stream source = await OpenBlobAsync(registry, repository, digest, expectedSize, cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            long before = destination.CanSeek ? destination.Position : 0;
            await source.CopyToAsync(destination, 128 * 1024, cancellationToken).ConfigureAwait(false);
            return destination.CanSeek ? destination.Position - before : source.Position;
        }
    }
}
