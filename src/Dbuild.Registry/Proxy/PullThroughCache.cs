using Dbuild.Oci;
using Dbuild.Registry.Api;
using Dbuild.Registry.Client;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Proxy;

/// <summary>
/// The pull-through cache (<c>proxy.*</c>): which upstream serves a repository, and manifests and tags from it.
/// Manifests are cached by digest forever (content-addressed); a tag is served from the cache while its last upstream
/// check (<see cref="TagCheckRecord"/>, in storage) is younger than the upstream's <c>ttl</c>, otherwise upstream is
/// asked (HEAD) and whatever is new is stored; an upstream that fails leaves the cached tag served. Blobs are in
/// <see cref="ProxyBlobFetcher"/>.
/// </summary>
internal sealed class PullThroughCache
{
    private readonly RegistryStorage _storage;
    private readonly TagCheckRecord _checks;
    private readonly ILogger<PullThroughCache> _logger;
    private readonly List<UpstreamClient> _upstreams;

    public PullThroughCache(IOptions<RegistryOptions> options, RegistryStorage storage, TimeProvider timeProvider, ILogger<PullThroughCache> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _storage = storage;
        _logger = logger;
        _checks = new TagCheckRecord(storage.Driver, timeProvider);
        IReadOnlyList<ProxyUpstream> upstreams = options.Value.Proxy.All();
        _upstreams = upstreams.Count == 0 ? [] : CreateClients(upstreams, options.Value.MaxManifestBytes);
    }

    /// <summary>True when any repository is mirrored.</summary>
    public bool Enabled => _upstreams.Count > 0;

    /// <summary>The upstream serving <paramref name="name"/> (longest prefix first) and the name there; null for a local repository.</summary>
    public ProxyRoute? Route(string name)
    {
        foreach (UpstreamClient upstream in _upstreams)
        {
            if (upstream.Upstream.RemoteName(name) is { } remote) { return new ProxyRoute(upstream, remote); }
        }
        return null;
    }

    /// <summary>
    /// Makes sure the manifest a digest or tag names is in storage (fetched from upstream when needed) and returns its
    /// digest. Throws MANIFEST_UNKNOWN when upstream does not have it, UNKNOWN (500) when upstream fails and nothing is cached.
    /// </summary>
    public async Task<Digest> GetManifestAsync(ProxyRoute route, string name, Digest? byDigest, string? tag, CancellationToken cancellationToken)
    {
        string reference = byDigest?.ToString() ?? tag!;
        if (byDigest is { } digest)
        {
            if (await _storage.HasManifestAsync(name, digest, cancellationToken).ConfigureAwait(false)) { return digest; }
            try
            {
                ManifestResponse fetched = await FetchAsync(route, reference, cancellationToken).ConfigureAwait(false);
                await StoreAsync(route, name, fetched, null, cancellationToken).ConfigureAwait(false);
                return digest;
            }
            catch (UpstreamUnavailableException ex)
            {
                // By digest there is nothing cached to fall back to (it was looked for first).
                Log.ProxyUpstreamFailed(_logger, name, reference, ex.Message);
                throw DistributionErrors.UpstreamError(ex.Message);
            }
        }
        Digest? cached = await _storage.ResolveTagAsync(name, tag!, cancellationToken).ConfigureAwait(false);
        if (cached is { } fresh && await _checks.IsFreshAsync(name, tag!, fresh, route.Upstream.Upstream.Ttl, cancellationToken).ConfigureAwait(false))
        {
            return fresh;
        }
        try
        {
            Digest current = await route.Upstream.ResolveTagAsync(route.RemoteName, tag!, cancellationToken).ConfigureAwait(false)
                ?? (cached is not null ? throw new UpstreamUnavailableException(route.Upstream.Upstream.ToString(), $"has no tag {route.RemoteName}:{tag} (any more)")
                    : throw DistributionErrors.ManifestUnknownError(reference));
            if (current != cached || !await _storage.HasManifestAsync(name, current, cancellationToken).ConfigureAwait(false))
            {
                byte[]? local = await _storage.GetManifestAsync(name, current, cancellationToken).ConfigureAwait(false);
                if (local is not null) { await _storage.PutManifestAsync(name, current, local, tag, cancellationToken).ConfigureAwait(false); }
                else
                {
                    ManifestResponse fetched = await FetchAsync(route, current.ToString(), cancellationToken).ConfigureAwait(false);
                    await StoreAsync(route, name, fetched, tag, cancellationToken).ConfigureAwait(false);
                }
            }
            await _checks.RecordAsync(name, tag!, current, cancellationToken).ConfigureAwait(false);
            return current;
        }
        catch (UpstreamUnavailableException ex) when (cached is { } fallback)
        {
            Log.ProxyServingCachedTag(_logger, name, tag!, fallback, ex.Message);
            return fallback;
        }
        catch (UpstreamUnavailableException ex)
        {
            Log.ProxyUpstreamFailed(_logger, name, reference, ex.Message);
            throw DistributionErrors.UpstreamError(ex.Message);
        }
    }

    /// <summary>The tags upstream has (registry:2's proxy lists upstream's), or the cached ones when upstream fails; null when neither knows the repository.</summary>
    public async Task<IReadOnlyList<string>?> ListTagsAsync(ProxyRoute route, string name, CancellationToken cancellationToken)
    {
        try
        {
            IReadOnlyList<string>? tags = await route.Upstream.ListTagsAsync(route.RemoteName, cancellationToken).ConfigureAwait(false);
            if (tags is not null) { return [.. tags.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]; }
        }
        catch (UpstreamUnavailableException ex)
        {
            Log.ProxyUpstreamFailed(_logger, name, "tags/list", ex.Message);
        }
        return await _storage.ListTagsAsync(name, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<ManifestResponse> FetchAsync(ProxyRoute route, string reference, CancellationToken cancellationToken) =>
        await route.Upstream.GetManifestAsync(route.RemoteName, reference, cancellationToken).ConfigureAwait(false)
            ?? throw DistributionErrors.ManifestUnknownError(reference);

    /// <summary>Stores a fetched manifest (its digest was verified or computed from its bytes) after checking it parses.</summary>
    private async Task StoreAsync(ProxyRoute route, string name, ManifestResponse fetched, string? tag, CancellationToken cancellationToken)
    {
        byte[] content = fetched.Content.ToArray();
        try { ManifestInfo.Parse(content, fetched.MediaType); }
        catch (DistributionException ex)
        {
            throw new UpstreamUnavailableException(route.Upstream.Upstream.ToString(), $"served manifest {fetched.Digest} that is not valid: {ex.Message}");
        }
        await _storage.PutManifestAsync(name, fetched.Digest, content, tag, cancellationToken).ConfigureAwait(false);
        Log.ProxyManifestCached(_logger, name, fetched.Digest, tag ?? "", route.Upstream.Upstream.ToString());
    }

    private static List<UpstreamClient> CreateClients(IReadOnlyList<ProxyUpstream> upstreams, int maxManifestBytes)
    {
        // http:// upstreams are plain HTTP; https:// ones get TLS with certs.d, as the CLI's pulls do.
        var hosts = new RegistryHosts(upstreams.Where(u => u.RemoteUrl.Scheme == Uri.UriSchemeHttp)
            .Select(u => u.Host).Distinct(StringComparer.OrdinalIgnoreCase)
            .ToDictionary(h => h, _ => new RegistryHostConfig { Http = true, Insecure = true }, StringComparer.OrdinalIgnoreCase));
        var http = new HttpClient(new RegistryHttpHandler(hosts)) { Timeout = UpstreamClient.HeadersTimeout };
        var clientOptions = new RegistryClientOptions
        {
            Hosts = hosts,
            MaxAttempts = 2,
            RetryDelay = TimeSpan.FromMilliseconds(100),
            MaxManifestBytes = maxManifestBytes,
            UserAgent = "dbuild-registry-proxy/0.1",
            TimeProvider = TimeProvider.System, // network waits are real time, whatever clock the tag ttl uses
        };
        return [.. upstreams.Select(u =>
        {
            var credentials = new Dictionary<string, RegistryCredential>(StringComparer.OrdinalIgnoreCase);
            if (u.Username is not null) { credentials[u.Host] = new RegistryCredential(u.Username, u.Password); }
            return new UpstreamClient(u, new RegistryClient(http, clientOptions, new StaticCredentialSource(credentials)));
        })];
    }
}

/// <summary>A mirrored repository: the upstream that serves it and its name there.</summary>
internal sealed record ProxyRoute(UpstreamClient Upstream, string RemoteName);
