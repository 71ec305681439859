using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dbuild.Registry.Configuration;

/// <summary>
/// Checks the <c>auth.token.*</c> keys together: registry:2 needs realm, service, issuer and rootcertbundle for an external
/// issuer; the built-in issuer needs only <c>auth.token.builtin.htpasswd</c>. Key and certificate files are read here so a
/// bad one stops startup naming its key.
/// </summary>
internal static class TokenAuthValidation
{
    public static void Validate(RegistryOptions options)
    {
        bool anyToken = options.TokenRealm is not null || options.TokenService is not null || options.TokenIssuer is not null
            || options.TokenRootCertBundle is not null || options.TokenBuiltinHtpasswd is not null || options.TokenBuiltinAcl is not null
            || options.TokenBuiltinKey is not null;
        if (!anyToken) { return; }
        if (options.HtpasswdPath is not null) { throw new RegistryConfigurationException("auth", "configure exactly one auth method: htpasswd or token, not both"); }
        if (options.TokenBuiltinHtpasswd is null)
        {
            if (options.TokenBuiltinAcl is not null || options.TokenBuiltinKey is not null)
            {
                throw new RegistryConfigurationException("auth.token.builtin.htpasswd", "is required when other auth.token.builtin keys are set");
            }
            foreach ((string key, string? value) in new[] { ("auth.token.realm", options.TokenRealm), ("auth.token.service", options.TokenService),
                ("auth.token.issuer", options.TokenIssuer), ("auth.token.rootcertbundle", options.TokenRootCertBundle) })
            {
                if (value is null) { throw new RegistryConfigurationException(key, "is required for token auth with an external issuer (or set auth.token.builtin.htpasswd)"); }
            }
        }
        else if (options.TokenIssuer is not null && options.TokenRootCertBundle is null)
        {
            throw new RegistryConfigurationException("auth.token.rootcertbundle", "is required when auth.token.issuer names an external issuer");
        }
        if (options.TokenBuiltinExpiration <= TimeSpan.Zero) { throw new RegistryConfigurationException("auth.token.builtin.expiration", "must be positive"); }
        if (options.TokenRealm is not null && !Uri.TryCreate(options.TokenRealm, UriKind.Absolute, out _))
        {
            throw new RegistryConfigurationException("auth.token.realm", $"'{options.TokenRealm}' is not an absolute URL");
        }
        if (options.TokenRootCertBundle is { } bundle)
        {
            var certificates = new X509Certificate2Collection();
            try { certificates.ImportFromPemFile(bundle); }
            catch (CryptographicException ex) { throw new RegistryConfigurationException("auth.token.rootcertbundle", $"cannot read certificates from '{bundle}': {ex.Message}"); }
            if (certificates.Count == 0) { throw new RegistryConfigurationException("auth.token.rootcertbundle", $"'{bundle}' holds no PEM certificate"); }
        }
        if (options.TokenBuiltinKey is { } keyFile)
        {
            try { using ECDsa key = Auth.TokenSigningKey.FromPem(File.ReadAllText(keyFile)); }
            catch (ArgumentException)
            {
                throw new RegistryConfigurationException("auth.token.builtin.key", $"'{keyFile}' holds no PEM EC private key");
            }
            catch (Exception ex) when (ex is CryptographicException or InvalidDataException)
            {
                throw new RegistryConfigurationException("auth.token.builtin.key", $"'{keyFile}': {ex.Message}");
            }
        }
    }
}
