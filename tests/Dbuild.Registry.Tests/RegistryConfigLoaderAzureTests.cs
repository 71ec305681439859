using Dbuild.Registry.Configuration;

namespace Dbuild.Registry.Tests;

/// <summary>The <c>storage.azure</c> section: kept as driver parameters for the Azure driver, which validates them.</summary>
public sealed class RegistryConfigLoaderAzureTests : IDisposable
{
    private readonly Dbuild.Testing.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string yaml)
    {
        string path = _dir.Combine($"config-{Guid.NewGuid():N}.yml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private const string Azure = """
        version: 0.1
        storage:
          azure:
            accountname: acct
            accountkey: a2V5
            container: registry
            rootdirectory: /prefix
            credentials:
              type: client_secret
              clientid: c
              tenantid: t
              secret: s
            max_retries: 3
            retry_delay: 10ms
        """;

    [Fact]
    public void Load_AzureSection_SelectsTheAzureDriverWithItsParameters()
    {
        var warnings = new List<string>();
        RegistryOptions options = RegistryConfigLoader.Load(Write(Azure), new Dictionary<string, string>(), "/default", warnings.Add);
        Assert.Empty(warnings);
        Assert.Equal("azure", options.StorageDriver);
        Assert.Equal("acct", options.StorageParameters["accountname"]);
        Assert.Equal("/prefix", options.StorageParameters["rootdirectory"]);
        Assert.Equal("client_secret", options.StorageParameters["credentials.type"]);
        Assert.Equal("s", options.StorageParameters["credentials.secret"]);
        Assert.Equal("3", options.StorageParameters["max_retries"]);
        var copy = new RegistryOptions();
        copy.CopyFrom(options);
        Assert.Equal(("azure", "10ms"), (copy.StorageDriver, copy.StorageParameters["retry_delay"]));
    }

    [Fact]
    public void Load_NoStorageSection_IsTheFilesystem()
    {
        RegistryOptions options = RegistryConfigLoader.Load(null, new Dictionary<string, string>(), "/default");
        Assert.Equal("filesystem", options.StorageDriver);
        Assert.Empty(options.StorageParameters);
    }

    [Fact]
    public void Load_EnvironmentVariables_OverrideAzureKeysIncludingUnderscoredOnes()
    {
        var environment = new Dictionary<string, string>
        {
            ["REGISTRY_STORAGE_AZURE_ACCOUNTKEY"] = "ZnJvbS1lbnY=",
            ["REGISTRY_STORAGE_AZURE_MAX_RETRIES"] = "7",
            ["REGISTRY_STORAGE_AZURE_CREDENTIALS_TYPE"] = "shared_key",
        };
        RegistryOptions options = RegistryConfigLoader.Load(Write(Azure), environment, "/default");
        Assert.Equal("ZnJvbS1lbnY=", options.StorageParameters["accountkey"]);
        Assert.Equal("7", options.StorageParameters["max_retries"]);
        Assert.Equal("shared_key", options.StorageParameters["credentials.type"]);
    }

    [Fact]
    public void Load_EnvironmentOnly_SelectsAzure()
    {
        var environment = new Dictionary<string, string> { ["REGISTRY_STORAGE_AZURE_ACCOUNTNAME"] = "acct" };
        Assert.Equal("azure", RegistryConfigLoader.Load(null, environment, "/default").StorageDriver);
    }

    [Fact]
    public void Load_TwoDriverSections_IsAnErrorNamingStorage()
    {
        string path = Write(Azure + "\n  filesystem:\n    rootdirectory: /data\n");
        var ex = Assert.Throws<RegistryConfigurationException>(() => RegistryConfigLoader.Load(path, new Dictionary<string, string>(), "/default"));
        Assert.Equal("storage", ex.Key);
        Assert.Contains("exactly one storage driver", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownAzureKey_Warns()
    {
        var warnings = new List<string>();
        RegistryConfigLoader.Load(Write(Azure + "\n    copy_status_poll_max_retry: 10\n"), new Dictionary<string, string>(), "/default", warnings.Add);
        Assert.Contains(warnings, w => w.Contains("'storage.azure.copy_status_poll_max_retry'", StringComparison.Ordinal));
    }
}
