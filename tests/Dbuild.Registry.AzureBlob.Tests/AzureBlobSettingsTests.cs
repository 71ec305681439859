using Dbuild.Registry.Configuration;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.AzureBlob.Tests;

public sealed class AzureBlobSettingsTests
{
    private const string Key = "a2V5IGJ5dGVz"; // base64 of "key bytes"

    private static Dictionary<string, string> Minimal() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["accountname"] = "acct",
        ["accountkey"] = Key,
        ["container"] = "registry",
    };

    [Fact]
    public void FromParameters_Minimal_SharedKeyOnTheRealmsServiceUrl()
    {
        AzureBlobSettings settings = AzureBlobSettings.FromParameters(Minimal());
        Assert.Equal(AzureCredentialsType.SharedKey, settings.CredentialsType);
        Assert.Equal(new Uri("https://acct.blob.core.windows.net"), settings.ServiceUrl);
        Assert.Equal("", settings.RootDirectory);
        Assert.Equal(5, settings.MaxRetries);
    }

    [Fact]
    public void FromParameters_EveryKey_IsRead()
    {
        Dictionary<string, string> parameters = Minimal();
        parameters["realm"] = "core.chinacloudapi.cn";
        parameters["rootdirectory"] = "/team/registry/";
        parameters["max_retries"] = "-1";
        parameters["retry_delay"] = "250ms";
        AzureBlobSettings settings = AzureBlobSettings.FromParameters(parameters);
        Assert.Equal(new Uri("https://acct.blob.core.chinacloudapi.cn"), settings.ServiceUrl);
        Assert.Equal("team/registry", settings.RootDirectory);
        Assert.Equal(0, settings.MaxRetries); // -1: no retries, as registry:2
        Assert.Equal(TimeSpan.FromMilliseconds(250), settings.RetryDelay);
        parameters["serviceurl"] = "http://127.0.0.1:10000/devstoreaccount1/";
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), AzureBlobSettings.FromParameters(parameters).ServiceUrl);
    }

    [Fact]
    public void FromParameters_ClientSecret_NeedsNoAccountKey()
    {
        Dictionary<string, string> parameters = Minimal();
        parameters.Remove("accountkey");
        parameters["credentials.type"] = "client_secret";
        parameters["credentials.clientid"] = "client";
        parameters["credentials.tenantid"] = "tenant";
        parameters["credentials.secret"] = "secret";
        AzureBlobSettings settings = AzureBlobSettings.FromParameters(parameters);
        Assert.Equal(AzureCredentialsType.ClientSecret, settings.CredentialsType);
        Assert.Null(settings.AccountKey);
        Assert.NotNull(settings.CreateServiceClient()); // no request is made until the driver is used
    }

    [Theory]
    [InlineData("accountname", null, "storage.azure.accountname")] // required
    [InlineData("container", null, "storage.azure.container")] // required
    [InlineData("container", "Registry_1", "storage.azure.container")] // uppercase and '_'
    [InlineData("accountkey", null, "storage.azure.accountkey")] // shared_key needs it
    [InlineData("accountkey", "not base64!", "storage.azure.accountkey")] // not base64
    [InlineData("credentials.type", "password", "storage.azure.credentials.type")] // unknown type
    [InlineData("credentials.type", "client_secret", "storage.azure.credentials.clientid")] // client_secret without its keys
    [InlineData("serviceurl", "ftp://example", "storage.azure.serviceurl")] // not http(s)
    [InlineData("max_retries", "many", "storage.azure.max_retries")] // not a number
    [InlineData("retry_delay", "soon", "storage.azure.retry_delay")] // not a duration
    public void FromParameters_Invalid_NamesTheKey(string parameter, string? value, string key)
    {
        Dictionary<string, string> parameters = Minimal();
        if (value is null) { parameters.Remove(parameter); } else { parameters[parameter] = value; }
        var ex = Assert.Throws<RegistryConfigurationException>(() => AzureBlobSettings.FromParameters(parameters));
        Assert.Equal(key, ex.Key);
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void BlockIds_AreUniqueAndOfOneLength()
    {
        string[] ids = [.. Enumerable.Range(0, 1000).Select(_ => AzureBlockStager.NewBlockId())];
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id => Assert.Equal(44, id.Length));
        var part = new StagedPart(string.Join(' ', ids.Take(3)), 0, 10);
        Assert.Equal(ids.Take(3), AzureBlockStager.BlockIds(part));
        Assert.Empty(AzureBlockStager.BlockIds(new StagedPart("", 0, 0)));
    }

    [Theory]
    [InlineData("", "docker/registry/v2/x", "docker/registry/v2/x")]
    [InlineData("root/dir", "docker/registry/v2/x", "root/dir/docker/registry/v2/x")]
    [InlineData("root", "", "root")]
    public void BlobName_PutsPathsUnderTheRootDirectory(string root, string path, string expected)
    {
        var driver = new AzureBlobDriver(new Azure.Storage.Blobs.BlobServiceClient(new Uri("http://127.0.0.1:1/acct"),
            new Azure.Storage.StorageSharedKeyCredential("acct", Key)), "registry", root);
        Assert.Equal(expected, driver.BlobName(path));
        Assert.Throws<ArgumentException>(() => driver.BlobName("a/../b")); // path traversal
    }
}
