using System.Security.Cryptography;
using Dbuild.Registry.Configuration;

namespace Dbuild.Registry.Tests;

/// <summary>The <c>auth.token.*</c> keys: registry:2's external issuer keys, the built-in issuer's, and errors naming the key.</summary>
public sealed class TokenAuthConfigTests : IDisposable
{
    private readonly Dbuild.Testing.TempDirectory _dir = new();
    private static readonly Dictionary<string, string> NoEnvironment = [];

    public void Dispose() => _dir.Dispose();

    private RegistryOptions Load(string auth)
    {
        string path = _dir.Combine($"config-{Guid.NewGuid():N}.yml");
        File.WriteAllText(path, $"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /data\nauth:\n{auth}");
        return RegistryConfigLoader.Load(path, NoEnvironment, "/srv/default");
    }

    private string File_(string name, string content)
    {
        string path = _dir.Combine(name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void ExternalIssuer_Registry2Keys()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=issuer", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string bundle = File_("bundle.pem", certificate.ExportCertificatePem());
        RegistryOptions options = Load($"  token:\n    realm: https://auth.example/token\n    service: registry.example\n    issuer: auth.example\n    rootcertbundle: {bundle}\n    autoredirect: true\n");
        Assert.True(options.TokenAutoRedirect);
        Assert.Equal(("https://auth.example/token", "registry.example", "auth.example", bundle),
            (options.TokenRealm, options.TokenService, options.TokenIssuer, options.TokenRootCertBundle));
        Assert.True(options.TokenAuthEnabled);
        Assert.Null(options.TokenBuiltinHtpasswd);
    }

    [Fact]
    public void BuiltinIssuer_DefaultsAndKeys()
    {
        string htpasswd = File_("htpasswd", "");
        RegistryOptions defaults = Load($"  token:\n    builtin:\n      htpasswd: {htpasswd}\n");
        Assert.Equal(("dbuild-registry", "dbuild-registry", TimeSpan.FromMinutes(5)), (defaults.TokenServiceName, defaults.TokenBuiltinIssuer, defaults.TokenBuiltinExpiration));
        Assert.Null(defaults.TokenRealm);
        Assert.Null(defaults.TokenBuiltinKey);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string pem = File_("key.pem", key.ExportPkcs8PrivateKeyPem());
        string acl = File_("acl.yml", "");
        RegistryOptions options = Load($"  token:\n    realm: https://reg.example/auth/token\n    service: reg.example\n    builtin:\n      htpasswd: {htpasswd}\n" +
            $"      acl: {acl}\n      issuer: reg-issuer\n      expiration: 15m\n      key: {pem}\n");
        Assert.Equal(("reg.example", "reg-issuer", TimeSpan.FromMinutes(15), pem, acl),
            (options.TokenServiceName, options.TokenBuiltinIssuer, options.TokenBuiltinExpiration, options.TokenBuiltinKey, options.TokenBuiltinAcl));
    }

    [Theory]
    [InlineData("  token:\n    realm: https://a/token\n    service: s\n    issuer: i\n", "auth.token.rootcertbundle")]
    [InlineData("  token:\n    service: s\n", "auth.token.realm")]
    [InlineData("  token:\n    builtin:\n      expiration: soon\n", "auth.token.builtin.expiration")]
    [InlineData("  token:\n    builtin:\n      htpasswd: /does/not/exist\n", "auth.token.builtin.htpasswd")]
    [InlineData("  silly:\n    x: 1\n", "auth.silly")]
    public void BadTokenConfig_NamesTheKey(string auth, string key)
    {
        var error = Assert.Throws<RegistryConfigurationException>(() => Load(auth));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadKeyFile_AndTwoAuthMethods_NameTheKey()
    {
        string htpasswd = File_("htpasswd", "");
        using var rsa = RSA.Create(2048);
        string rsaKey = File_("rsa.pem", rsa.ExportPkcs8PrivateKeyPem());
        string garbage = File_("garbage.pem", "not a key");
        var notPem = Assert.Throws<RegistryConfigurationException>(() => Load($"  token:\n    builtin:\n      htpasswd: {htpasswd}\n      key: {garbage}\n"));
        Assert.Equal("auth.token.builtin.key", notPem.Key);
        var wrongKey = Assert.Throws<RegistryConfigurationException>(() => Load($"  token:\n    builtin:\n      htpasswd: {htpasswd}\n      key: {rsaKey}\n"));
        Assert.Contains("auth.token.builtin.key", wrongKey.Message, StringComparison.Ordinal);
        var both = Assert.Throws<RegistryConfigurationException>(() =>
            Load($"  htpasswd:\n    realm: r\n    path: {htpasswd}\n  token:\n    builtin:\n      htpasswd: {htpasswd}\n"));
        Assert.StartsWith("auth", both.Key, StringComparison.Ordinal);
    }
}
