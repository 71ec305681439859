using System.Net;
using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Registry.Proxy;

/// <summary>
/// One upstream of the pull-through cache, through <see cref="RegistryClient"/> (ping, Basic and Bearer token auth):
/// each call returns null for "not there" (404) and throws <see cref="UpstreamUnavailableException"/> for every other
/// failure, so callers fall back to the cache. Calls are bounded: the client's <see cref="HttpClient.Timeout"/> covers
/// connecting and the response headers, and blob reads get <see cref="ReadTimeout"/> each.
/// </summary>
internal sealed class UpstreamClient(ProxyUpstream upstream, RegistryClient client)
{
    /// <summary>Connect plus response headers: a dead upstream must mean a fast fallback to the cache, not a hung client.</summary>
    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The longest wait for the next bytes of a blob body.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    public ProxyUpstream Upstream => upstream;

    private string Name => upstream.RemoteUrl.GetLeftPart(UriPartial.Authority);

    /// <summary>The digest <paramref name="tag"/> names upstream now (HEAD, or GET when the HEAD has no digest header); null when unknown.</summary>
    public Task<Digest?> ResolveTagAsync(string repository, string tag, CancellationToken cancellationToken) => CallAsync<Digest?>(async () =>
    {
        Digest? digest = await client.ResolveManifestDigestAsync(upstream.Host, repository, tag, cancellationToken).ConfigureAwait(false);
        return digest ?? (await client.GetManifestAsync(upstream.Host, repository, tag, cancellationToken).ConfigureAwait(false)).Digest;
    });

    /// <summary>The manifest bytes for a tag or digest (a digest is verified); null when unknown.</summary>
    public Task<ManifestResponse?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken) =>
        CallAsync<ManifestResponse?>(async () => await client.GetManifestAsync(upstream.Host, repository, reference, cancellationToken).ConfigureAwait(false));

    /// <summary>The blob's size upstream (HEAD); null when the repository has no such blob.</summary>
    public Task<long?> StatBlobAsync(string repository, Digest digest, CancellationToken cancellationToken) =>
        CallAsync(() => client.StatBlobAsync(upstream.Host, repository, digest, cancellationToken));

    /// <summary>
    /// The blob's bytes, verified as they end (digest and <paramref name="size"/>: a mismatch throws from the read that
    /// reaches the end). Null when the repository has no such blob.
    /// </summary>
    public Task<Stream?> OpenBlobAsync(string repository, Digest digest, long size, CancellationToken cancellationToken) =>
        CallAsync<Stream?>(async () => await client.OpenBlobAsync(upstream.Host, repository, digest, size, cancellationToken).ConfigureAwait(false));

    /// <summary>Every tag of the repository upstream; null when it has no such repository.</summary>
    public Task<IReadOnlyList<string>?> ListTagsAsync(string repository, CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<string>?>(async () => await client.ListTagsAsync(upstream.Host, repository, cancellationToken).ConfigureAwait(false));

    /// <summary>Translates a failure read from the upstream's bytes (a blob body) into the same exception.</summary>
    public UpstreamUnavailableException Unavailable(string what, Exception ex) => new(Name, $"{what}: {ex.Message}", ex);

    private async Task<T?> CallAsync<T>(Func<Task<T>> call)
    {
        try { return await call().ConfigureAwait(false); }
        catch (RegistryException ex) when (ex.StatusCode == HttpStatusCode.NotFound) { return default; }
        catch (RegistryException ex) { throw new UpstreamUnavailableException(Name, ex.Message, ex); }
        catch (DigestMismatchException ex) { throw new UpstreamUnavailableException(Name, $"served content that does not match its digest ({ex.Message})", ex); }
        catch (InvalidContentException ex) { throw new UpstreamUnavailableException(Name, ex.Message, ex); }
        catch (HttpRequestException ex) { throw new UpstreamUnavailableException(Name, ex.Message, ex); }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
        {
            throw new UpstreamUnavailableException(Name, $"no answer within {HeadersTimeout.TotalSeconds:0} s", ex);
        }
    }
}
