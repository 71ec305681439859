using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Auth;

/// <summary>
/// Verifies bearer tokens as distribution 2.8 does (registry/auth/token/token.go): issuer trusted, audience the service,
/// <c>exp</c>/<c>nbf</c> within <see cref="Leeway"/>, signed by a trusted key found through the header's <c>x5c</c> chain
/// (to a certificate of <c>auth.token.rootcertbundle</c>), its <c>jwk</c>, or its <c>kid</c>. The built-in issuer's key is
/// trusted by its <c>kid</c>. Verified tokens are remembered by their bytes (bounded) and only re-checked for expiry.
/// </summary>
internal sealed class TokenVerifier
{
    /// <summary>distribution's <c>token.Leeway</c>.</summary>
    public static readonly TimeSpan Leeway = TimeSpan.FromSeconds(60);
    private const int MaxCached = 4096;

    private readonly RegistryOptions _options;
    private readonly BuiltinTokenKey _builtin;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<TokenVerifier> _logger;
    private readonly X509Certificate2Collection _roots = [];
    private readonly Dictionary<string, AsymmetricAlgorithm> _trustedKeys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _issuers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TokenClaims> _verified = new(StringComparer.Ordinal);

    public TokenVerifier(IOptions<RegistryOptions> options, BuiltinTokenKey builtin, TimeProvider timeProvider, ILogger<TokenVerifier> logger)
    {
        (_options, _builtin, _timeProvider, _logger) = (options.Value, builtin, timeProvider, logger);
        if (_options.TokenRootCertBundle is { } bundle)
        {
            _roots.ImportFromPemFile(bundle);
            foreach (X509Certificate2 root in _roots)
            {
                if (((AsymmetricAlgorithm?)root.GetECDsaPublicKey() ?? root.GetRSAPublicKey()) is { } key) { _trustedKeys[TokenSigningKey.KeyId(key)] = key; }
            }
        }
        if (_options.TokenIssuer is { } issuer) { _issuers.Add(issuer); }
        if (builtin.Enabled) { _issuers.Add(_options.TokenBuiltinIssuer); }
    }

    /// <summary>The token's claims when it is valid now for <paramref name="audience"/>; null when it is not (distribution's ErrInvalidToken).</summary>
    public async ValueTask<TokenClaims?> VerifyAsync(string raw, string audience, CancellationToken cancellationToken)
    {
        if (!_verified.TryGetValue(raw, out TokenClaims? claims))
        {
            claims = await VerifySignedAsync(raw, cancellationToken).ConfigureAwait(false);
            if (claims is null) { return null; }
            if (_verified.Count >= MaxCached) { _verified.Clear(); }
            _verified[raw] = claims;
        }
        if (!claims.Audiences.Contains(audience, StringComparer.Ordinal)) { return Refuse("token intended for another audience"); }
        long now = _timeProvider.GetUtcNow().ToUnixTimeSeconds();
        if (now > claims.Expiration + (long)Leeway.TotalSeconds)
        {
            _verified.TryRemove(raw, out _);
            return Refuse("token expired");
        }
        return now < claims.NotBefore - (long)Leeway.TotalSeconds ? Refuse("token not valid yet") : claims;
    }

    private async ValueTask<TokenClaims?> VerifySignedAsync(string raw, CancellationToken cancellationToken)
    {
        if (!Jws.TryParse(raw, out Jws? jws) || !TokenClaims.TryRead(jws.Claims, out TokenClaims claims)) { return Refuse("malformed token"); }
        if (!_issuers.Contains(claims.Issuer)) { return Refuse($"token from untrusted issuer '{claims.Issuer}'"); }
        if (jws.Signature.Length == 0) { return Refuse("token has no signature"); }
        AsymmetricAlgorithm? key = await SigningKeyAsync(jws, cancellationToken).ConfigureAwait(false);
        if (key is null) { return Refuse("token signed by an untrusted key"); }
        return VerifySignature(key, jws.HeaderString("alg"), jws.SigningInput, jws.Signature) ? claims : Refuse("bad token signature");
    }

    private async ValueTask<AsymmetricAlgorithm?> SigningKeyAsync(Jws jws, CancellationToken cancellationToken)
    {
        if (jws.Header.TryGetProperty("x5c", out JsonElement x5c) && x5c.ValueKind == JsonValueKind.Array && x5c.GetArrayLength() > 0)
        {
            return VerifiedChainKey(x5c);
        }
        if (jws.Header.TryGetProperty("jwk", out JsonElement jwk) && jwk.ValueKind == JsonValueKind.Object)
        {
            if (jwk.TryGetProperty("x5c", out JsonElement jwkChain) && jwkChain.ValueKind == JsonValueKind.Array && jwkChain.GetArrayLength() > 0)
            {
                return VerifiedChainKey(jwkChain);
            }
            // A JWK's kid, when given, must be the key's own id (libtrust); the key must be a trusted one.
            AsymmetricAlgorithm? candidate = JsonWebKey.Read(jwk);
            if (candidate is null) { return null; }
            string keyId = TokenSigningKey.KeyId(candidate);
            bool kidMatches = !jwk.TryGetProperty("kid", out JsonElement id) || (id.ValueKind == JsonValueKind.String && id.GetString() == keyId);
            return kidMatches && await TrustedKeyAsync(keyId, cancellationToken).ConfigureAwait(false) is not null ? candidate : null;
        }
        return jws.HeaderString("kid") is { Length: > 0 } kid ? await TrustedKeyAsync(kid, cancellationToken).ConfigureAwait(false) : null;
    }

    private async ValueTask<AsymmetricAlgorithm?> TrustedKeyAsync(string kid, CancellationToken cancellationToken)
    {
        if (_trustedKeys.TryGetValue(kid, out AsymmetricAlgorithm? key)) { return key; }
        if (!_builtin.Enabled) { return null; }
        (ECDsa builtinKey, string builtinKid) = await _builtin.GetAsync(cancellationToken).ConfigureAwait(false);
        return builtinKid == kid ? builtinKey : null;
    }

    /// <summary>The leaf's key when the chain (leaf first) leads to a root of the bundle.</summary>
    private AsymmetricAlgorithm? VerifiedChainKey(JsonElement chainElement)
    {
        if (_roots.Count == 0) { return null; }
        var certificates = new List<X509Certificate2>();
        try
        {
            foreach (JsonElement item in chainElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String) { return null; }
                certificates.Add(X509CertificateLoader.LoadCertificate(Convert.FromBase64String(item.GetString()!)));
            }
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
            chain.ChainPolicy.ExtraStore.AddRange(certificates.Skip(1).ToArray());
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationTime = _timeProvider.GetUtcNow().UtcDateTime;
            if (!chain.Build(certificates[0])) { return null; }
            return (AsymmetricAlgorithm?)certificates[0].GetECDsaPublicKey() ?? certificates[0].GetRSAPublicKey();
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException) { return null; }
        finally { foreach (X509Certificate2 certificate in certificates) { certificate.Dispose(); } }
    }

    private static bool VerifySignature(AsymmetricAlgorithm key, string? algorithm, byte[] input, byte[] signature)
    {
        HashAlgorithmName? hash = algorithm?[2..] switch { "256" => HashAlgorithmName.SHA256, "384" => HashAlgorithmName.SHA384, "512" => HashAlgorithmName.SHA512, _ => null };
        if (hash is not { } name) { return false; }
        try
        {
            return (algorithm![..2], key) switch
            {
                ("ES", ECDsa ec) => ec.VerifyData(input, signature, name, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                ("RS", RSA rsa) => rsa.VerifyData(input, signature, name, RSASignaturePadding.Pkcs1),
                _ => false,
            };
        }
        catch (CryptographicException) { return false; }
    }

    private TokenClaims? Refuse(string why)
    {
        Log.TokenRefused(_logger, why);
        return null;
    }
}
