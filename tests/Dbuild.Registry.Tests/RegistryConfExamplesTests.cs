using Dbuild.Registry.Configuration;
using Dbuild.Testing;

namespace Dbuild.Registry.Tests;

/// <summary>The commented examples in registry-conf/ load without errors or warnings.</summary>
public sealed class RegistryConfExamplesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("filesystem.yml")]
    [InlineData("htpasswd.yml")]
    [InlineData("tls.yml")]
    [InlineData("azure.yml")]
    [InlineData("token.yml")]
    [InlineData("proxy.yml")]
    [InlineData("observability.yml")]
    [InlineData("policies.yml")]
    [InlineData("notifications.yml")]
    [InlineData("ui.yml")]
    public void Example_Loads_WithoutWarnings(string file)
    {
        // The examples name files under /etc/dbuild; stand-ins come in through the registry:2 environment overrides.
        string standIn = _dir.Combine("stand-in");
        File.WriteAllText(standIn, "");
        var environment = new Dictionary<string, string>
        {
            ["REGISTRY_AUTH_HTPASSWD_PATH"] = standIn,
            ["REGISTRY_HTTP_TLS_CERTIFICATE"] = standIn,
            ["REGISTRY_HTTP_TLS_KEY"] = standIn,
            ["REGISTRY_AUTH_TOKEN_BUILTIN_HTPASSWD"] = standIn,
        };
        if (file != "tls.yml") { environment.Remove("REGISTRY_HTTP_TLS_CERTIFICATE"); environment.Remove("REGISTRY_HTTP_TLS_KEY"); }
        environment.Remove(file == "token.yml" ? "REGISTRY_AUTH_HTPASSWD_PATH" : "REGISTRY_AUTH_TOKEN_BUILTIN_HTPASSWD");
        var warnings = new List<string>();
        RegistryOptions options = RegistryConfigLoader.Load(Path.Combine(RepositoryPaths.Root, "registry-conf", file), environment, "/unused", warnings.Add);
        Assert.Empty(warnings);
        if (file == "azure.yml")
        {
            Assert.Equal("azure", options.StorageDriver);
            Assert.Equal("myaccount", options.StorageParameters["accountname"]);
            Assert.Equal("shared_key", options.StorageParameters["credentials.type"]);
            Assert.False(options.RedirectDisabled);
            return;
        }
        if (file == "proxy.yml")
        {
            Assert.Equal(["hub", "ghcr"], options.Proxy.Upstreams.Select(u => u.Prefix));
            return;
        }
        Assert.Equal("/var/lib/dbuild/registry", options.StorageRoot);
    }
}
