using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Dbuild.Registry.Client;

/// <summary>
/// Answers 401 challenges: Basic with the stored credential, or Bearer with a token fetched from the realm for
/// the scopes the request needs. Remembers each registry's challenge so later requests get a token up front,
/// and caches tokens by (registry, scopes) until shortly before they expire. Requests racing for the same scopes
/// share one token fetch; a 401 refetches only when the rejected token is still the cached one.
/// </summary>
/// <remarks>https://distribution.github.io/distribution/spec/auth/token/</remarks>
internal sealed class RegistryAuthenticator(HttpClient httpClient, IRegistryCredentialSource credentials, RegistryClientOptions options)
{
    private static readonly TimeSpan MinimumLifetime = TimeSpan.FromSeconds(60); // the spec's default when expires_in is missing
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedToken> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _fetching = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RegistryCredential> _credentials = new(StringComparer.Ordinal);

    private sealed record CachedToken(string Token, DateTimeOffset ExpiresAt);

    /// <summary>The header to send up front, when this registry challenged before; null for anonymous-first.</summary>
    public async Task<AuthenticationHeaderValue?> GetHeaderAsync(string registry, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        if (!_challenges.TryGetValue(registry, out AuthChallenge? challenge)) { return null; }
        return await HeaderForAsync(registry, challenge, MergeScopes(scopes), rejected: null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Handles a 401 to a request sent with <paramref name="sent"/>: records the challenge and returns the header to
    /// retry with, or null when it cannot help.
    /// </summary>
    public async Task<AuthenticationHeaderValue?> OnUnauthorizedAsync(string registry, HttpResponseMessage response, IReadOnlyList<string> scopes,
        AuthenticationHeaderValue? sent, CancellationToken cancellationToken)
    {
        AuthChallenge? challenge = response.Headers.WwwAuthenticate
            .Select(h => AuthChallenge.Parse(h.ToString()))
            .FirstOrDefault(c => c is not null && (c.IsBearer || c.IsBasic));
        if (challenge is null) { return null; }
        _challenges[registry] = challenge;
        // A scope the server asks for (e.g. for a mount source) joins the ones the request needs.
        IReadOnlyList<string> allScopes = MergeScopes([.. scopes, .. challenge.Scopes]);
        string? rejected = sent is { Scheme: "Bearer", Parameter: { } token } ? token : null;
        return await HeaderForAsync(registry, challenge, allScopes, rejected, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Merges scopes per resource, as registry:2 reads them: <c>repository:a:pull</c> and <c>repository:a:push,pull</c>
    /// become <c>repository:a:pull,push</c> (actions sorted), first-seen resource first. Unparseable scopes are kept as they are.
    /// </summary>
    /// <remarks>https://distribution.github.io/distribution/spec/auth/scope/: the name may hold a colon (a registry port), the actions follow the last.</remarks>
    internal static IReadOnlyList<string> MergeScopes(IEnumerable<string> scopes)
    {
        var merged = new Dictionary<string, SortedSet<string>?>(StringComparer.Ordinal); // null: kept verbatim
        var order = new List<string>();
        foreach (string scope in scopes)
        {
            int first = scope.IndexOf(':', StringComparison.Ordinal);
            int last = scope.LastIndexOf(':');
            bool parsed = first > 0 && last > first + 1;
            string resource = parsed ? scope[..last] : scope;
            if (!merged.TryGetValue(resource, out SortedSet<string>? actions))
            {
                merged[resource] = actions = parsed ? new SortedSet<string>(StringComparer.Ordinal) : null;
                order.Add(resource);
            }
            if (parsed) { actions?.UnionWith(scope[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); }
        }
        return [.. order.Select(r => merged[r] is { } actions ? $"{r}:{string.Join(',', actions)}" : r)];
    }

    private async Task<AuthenticationHeaderValue?> HeaderForAsync(string registry, AuthChallenge challenge, IReadOnlyList<string> scopes,
        string? rejected, CancellationToken cancellationToken)
    {
        RegistryCredential credential = await GetCredentialAsync(registry, cancellationToken).ConfigureAwait(false);
        if (challenge.IsBasic)
        {
            if (credential.IsAnonymous || credential.Username is null) { return null; }
            return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
        }
        string key = registry + "\n" + string.Join(' ', scopes.Order(StringComparer.Ordinal));
        if (Cached(key, rejected) is { } cached) { return new AuthenticationHeaderValue("Bearer", cached); }
        // One fetch per key at a time: parallel blob pushes that all got the first 401 share the token it brings.
        SemaphoreSlim gate = _fetching.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Cached(key, rejected) is { } fetchedMeanwhile) { return new AuthenticationHeaderValue("Bearer", fetchedMeanwhile); }
            CachedToken token = await FetchTokenAsync(registry, challenge, scopes, credential, cancellationToken).ConfigureAwait(false);
            _tokens[key] = token;
            return new AuthenticationHeaderValue("Bearer", token.Token);
        }
        finally { gate.Release(); }
    }

    /// <summary>The cached token for <paramref name="key"/> unless it has expired or is the one the registry just rejected.</summary>
    private string? Cached(string key, string? rejected) =>
        _tokens.TryGetValue(key, out CachedToken? cached) && cached.ExpiresAt > options.TimeProvider.GetUtcNow() && cached.Token != rejected ? cached.Token : null;

    private async Task<RegistryCredential> GetCredentialAsync(string registry, CancellationToken cancellationToken)
    {
        if (_credentials.TryGetValue(registry, out RegistryCredential? known)) { return known; }
        RegistryCredential credential = await credentials.GetAsync(registry, cancellationToken).ConfigureAwait(false);
        _credentials[registry] = credential;
        return credential;
    }

    private async Task<CachedToken> FetchTokenAsync(string registry, AuthChallenge challenge, IReadOnlyList<string> scopes,
        RegistryCredential credential, CancellationToken cancellationToken)
    {
        if (challenge.Realm is not { Length: > 0 } realm || !Uri.TryCreate(realm, UriKind.Absolute, out Uri? realmUri))
        {
            throw new RegistryException($"{registry} sent a Bearer challenge without a usable realm; it cannot be authenticated against.",
                HttpStatusCode.Unauthorized, "UNAUTHORIZED", isTransient: false);
        }
        using HttpRequestMessage request = credential.IdentityToken is { Length: > 0 } refreshToken
            ? OAuthRequest(realmUri, challenge.Service, scopes, refreshToken)
            : GetTokenRequest(realmUri, challenge.Service, scopes, credential);
        request.Headers.UserAgent.ParseAdd(options.UserAgent);
        using HttpResponseMessage response = await httpClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string hint = credential.IsAnonymous ? $"Run 'dbuild login {registry}'." : $"Check the credentials for {registry} ('dbuild login {registry}').";
            throw new RegistryException(
                $"Getting a token for {string.Join(' ', scopes)} from {realmUri.GetLeftPart(UriPartial.Path)} failed: {(int)response.StatusCode} {response.ReasonPhrase}. {hint}",
                response.StatusCode, "UNAUTHORIZED", RegistryException.IsTransientStatus(response.StatusCode));
        }
        using JsonDocument body = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        JsonElement root = body.RootElement;
        string? token = root.TryGetProperty("token", out JsonElement t) && t.GetString() is { Length: > 0 } tv ? tv
            : root.TryGetProperty("access_token", out JsonElement a) ? a.GetString() : null;
        if (string.IsNullOrEmpty(token))
        {
            throw new RegistryException($"The token server for {registry} answered without a token.", response.StatusCode, "UNAUTHORIZED", isTransient: false);
        }
        TimeSpan lifetime = root.TryGetProperty("expires_in", out JsonElement e) && e.TryGetInt32(out int seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds) : MinimumLifetime;
        DateTimeOffset issued = root.TryGetProperty("issued_at", out JsonElement i) && i.TryGetDateTimeOffset(out DateTimeOffset at)
            ? at : options.TimeProvider.GetUtcNow();
        // Renew a little early, but never so early that a short-lived token is not reused at all.
        TimeSpan margin = lifetime / 10 < ExpiryMargin ? lifetime / 10 : ExpiryMargin;
        return new CachedToken(token, issued + lifetime - margin);
    }

    private static HttpRequestMessage GetTokenRequest(Uri realm, string? service, IReadOnlyList<string> scopes, RegistryCredential credential)
    {
        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] : "");
        if (service is not null) { Append(query, "service", service); }
        foreach (string scope in scopes) { Append(query, "scope", scope); }
        var uri = new UriBuilder(realm) { Query = query.ToString() }.Uri;
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (!credential.IsAnonymous && credential.Username is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
        }
        return request;
    }

    private static HttpRequestMessage OAuthRequest(Uri realm, string? service, IReadOnlyList<string> scopes, string refreshToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", refreshToken),
            new("client_id", "dbuild"),
        };
        if (service is not null) { form.Add(new("service", service)); }
        if (scopes.Count > 0) { form.Add(new("scope", string.Join(' ', scopes))); }
        return new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
    }

    private static void Append(StringBuilder query, string name, string value)
    {
        if (query.Length > 0) { query.Append('&'); }
        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }
}
