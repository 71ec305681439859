using Dbuild.Registry.Configuration;

namespace Dbuild.Registry.Tests;

/// <summary><c>ui.enabled</c>: off by default, on with the key, refused (naming it) where the UI cannot check accounts.</summary>
public sealed class UiConfigTests : IDisposable
{
    private readonly Dbuild.Testing.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private RegistryOptions Load(string extra)
    {
        string path = _dir.Combine("config.yml");
        File.WriteAllText(path, $"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {_dir.Combine("data")}\n{extra}");
        return RegistryConfigLoader.Load(path, new Dictionary<string, string>(), "/unused");
    }

    [Fact]
    public void UiEnabled_DefaultsOff_AndTheKeyTurnsItOn()
    {
        Assert.False(Load("").UiEnabled);
        Assert.True(Load("ui:\n  enabled: true\n").UiEnabled);
    }

    [Fact]
    public void UiEnabled_WithAnExternalTokenIssuer_NamesTheKey()
    {
        string bundle = _dir.Combine("bundle.pem");
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=issuer", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(bundle, certificate.ExportCertificatePem());
        var error = Assert.Throws<RegistryConfigurationException>(() =>
            Load($"auth:\n  token:\n    realm: https://a/token\n    service: s\n    issuer: i\n    rootcertbundle: {bundle}\nui:\n  enabled: true\n"));
        Assert.Equal("ui.enabled", error.Key);
    }

    [Fact]
    public void UiEnabled_NotABoolean_NamesTheKey()
    {
        var error = Assert.Throws<RegistryConfigurationException>(() => Load("ui:\n  enabled: sometimes\n"));
        Assert.Contains("ui.enabled", error.Message, StringComparison.Ordinal);
    }
}
