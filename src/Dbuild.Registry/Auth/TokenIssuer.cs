using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Dbuild.Registry.Api;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Auth;

/// <summary>A token the built-in issuer signed, with what it grants (as scope strings) and when it was issued.</summary>
internal sealed record IssuedToken(string Token, IReadOnlyList<string> Scopes, int ExpiresIn, DateTimeOffset IssuedAt);

/// <summary>
/// The built-in issuer (<c>auth.token.builtin</c>): signs ES256 access tokens granting what was asked for and what
/// <see cref="IAccessRules"/> allow, and refresh tokens bound to an account and the service. Refresh tokens are JWTs
/// signed with the same key (audience <c>refresh:SERVICE</c>, so they never pass as access tokens), so every replica
/// verifies them; they are refused once the account is gone from the htpasswd file.
/// </summary>
internal sealed class TokenIssuer
{
    /// <summary>How long a refresh token (docker's stored identity token) stays valid.</summary>
    public static readonly TimeSpan RefreshLifetime = TimeSpan.FromDays(90);
    private static readonly string[] RepositoryActions = ["pull", "push", "delete"];

    private readonly RegistryOptions _options;
    private readonly BuiltinTokenKey _key;
    private readonly IAccessRules _rules;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<TokenIssuer> _logger;

    public TokenIssuer(IOptions<RegistryOptions> options, BuiltinTokenKey key, IAccessRules rules, TimeProvider timeProvider,
        ILogger<HtpasswdAuthenticator> htpasswdLogger, ILogger<TokenIssuer> logger)
    {
        (_options, _key, _rules, _timeProvider, _logger) = (options.Value, key, rules, timeProvider, logger);
        Users = _options.TokenBuiltinHtpasswd is { } path ? HtpasswdAuthenticator.ForFile(path, timeProvider, htpasswdLogger) : null;
    }

    public bool Enabled => Users is not null;

    /// <summary>The built-in issuer's accounts (<c>auth.token.builtin.htpasswd</c>).</summary>
    public HtpasswdAuthenticator? Users { get; }

    public string Service => _options.TokenServiceName;

    /// <summary>An access token for <paramref name="account"/> (null: anonymous) granting what <paramref name="scopes"/> ask and the rules allow.</summary>
    public async Task<IssuedToken> IssueAccessTokenAsync(string? account, IEnumerable<string> scopes, CancellationToken cancellationToken)
    {
        var granted = new Dictionary<(string Type, string Name), SortedSet<string>>();
        foreach (string scope in scopes.SelectMany(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            int first = scope.IndexOf(':', StringComparison.Ordinal);
            int last = scope.LastIndexOf(':');
            if (first <= 0 || last <= first) { continue; }
            string type = scope[..first];
            string name = scope[(first + 1)..last];
            string[] actions = scope[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries);
            IEnumerable<string> allowed = type switch
            {
                "repository" when DistributionPath.IsValidName(name) =>
                    _rules.Grant(account, name, [.. actions.Intersect(RepositoryActions, StringComparer.Ordinal)]),
                "registry" when name == "catalog" && actions.Contains("*") && _rules.MayListCatalog(account) => ["*"],
                _ => [],
            };
            foreach (string action in allowed)
            {
                if (!granted.TryGetValue((type, name), out SortedSet<string>? set)) { granted[(type, name)] = set = new(StringComparer.Ordinal); }
                set.Add(action);
            }
        }
        DateTimeOffset now = _timeProvider.GetUtcNow();
        var claims = new AccessClaims(_options.TokenBuiltinIssuer, account ?? "", Service, (now + _options.TokenBuiltinExpiration).ToUnixTimeSeconds(),
            now.ToUnixTimeSeconds(), now.ToUnixTimeSeconds(), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            [.. granted.Select(g => new AccessEntry(g.Key.Type, g.Key.Name, [.. g.Value]))]);
        string token = await SignAsync(claims, cancellationToken).ConfigureAwait(false);
        Log.TokenIssued(_logger, account ?? "(anonymous)", string.Join(' ', claims.Access.Select(ScopeOf)));
        return new IssuedToken(token, [.. claims.Access.Select(ScopeOf)], (int)_options.TokenBuiltinExpiration.TotalSeconds, now);
    }

    /// <summary>A long-lived refresh token for a signed-in account.</summary>
    public Task<string> IssueRefreshTokenAsync(string account, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        var claims = new AccessClaims(_options.TokenBuiltinIssuer, account, RefreshAudience, (now + RefreshLifetime).ToUnixTimeSeconds(),
            now.ToUnixTimeSeconds(), now.ToUnixTimeSeconds(), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), []);
        return SignAsync(claims, cancellationToken);
    }

    /// <summary>The account a refresh token was issued to, or null when it is not one of ours, expired, or its account is gone.</summary>
    public async Task<string?> VerifyRefreshTokenAsync(string raw, CancellationToken cancellationToken)
    {
        if (!Jws.TryParse(raw, out Jws? jws) || !TokenClaims.TryRead(jws.Claims, out TokenClaims claims) || jws.HeaderString("alg") != "ES256") { return null; }
        (ECDsa key, string keyId) = await _key.GetAsync(cancellationToken).ConfigureAwait(false);
        if (jws.HeaderString("kid") != keyId
            || !key.VerifyData(jws.SigningInput, jws.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            return null;
        }
        long now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
        bool valid = claims.Issuer == _options.TokenBuiltinIssuer && claims.Audiences.Contains(RefreshAudience) && now <= claims.Expiration
            && claims.Subject.Length > 0 && Users!.HasUser(claims.Subject);
        return valid ? claims.Subject : null;
    }

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private string RefreshAudience => "refresh:" + Service;

    private static string ScopeOf(AccessEntry entry) => $"{entry.Type}:{entry.Name}:{string.Join(',', entry.Actions)}";

    private async Task<string> SignAsync(AccessClaims claims, CancellationToken cancellationToken)
    {
        (ECDsa key, string keyId) = await _key.GetAsync(cancellationToken).ConfigureAwait(false);
        return Jws.Create(new Header("JWT", "ES256", keyId), claims,
            input => key.SignData(input, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    private sealed record Header([property: JsonPropertyName("typ")] string Type, [property: JsonPropertyName("alg")] string Algorithm,
        [property: JsonPropertyName("kid")] string KeyId);

    private sealed record AccessEntry([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("actions")] IReadOnlyList<string> Actions);

    private sealed record AccessClaims(
        [property: JsonPropertyName("iss")] string Issuer,
        [property: JsonPropertyName("sub")] string Subject,
        [property: JsonPropertyName("aud")] string Audience,
        [property: JsonPropertyName("exp")] long Expiration,
        [property: JsonPropertyName("nbf")] long NotBefore,
        [property: JsonPropertyName("iat")] long IssuedAt,
        [property: JsonPropertyName("jti")] string Id,
        [property: JsonPropertyName("access")] IReadOnlyList<AccessEntry> Access);
}
