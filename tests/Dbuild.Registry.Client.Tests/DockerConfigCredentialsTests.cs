using System.Text;
using System.Text.Json.Nodes;
using Dbuild.Testing;

namespace Dbuild.Registry.Client.Tests;

public sealed class DockerConfigCredentialsTests
{
    [Fact]
    public async Task Get_AuthsBase64_ReturnsUserAndPassword()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("config.json");
        string auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pa:ss"));
        await File.WriteAllTextAsync(path, "{\"auths\":{\"https://registry.test/v1/\":{\"auth\":\"" + auth + "\"}}}", TestContext.Current.CancellationToken);

        RegistryCredential credential = await new DockerConfigCredentials(path).GetAsync("registry.test", TestContext.Current.CancellationToken);

        Assert.Equal("alice", credential.Username);
        Assert.Equal("pa:ss", credential.Password);
    }

    [Fact]
    public async Task Get_DockerHub_UsesLegacyIndexKey()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("config.json");
        string auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:pw"));
        await File.WriteAllTextAsync(path, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" + auth + "\"}}}", TestContext.Current.CancellationToken);

        RegistryCredential credential = await new DockerConfigCredentials(path).GetAsync("docker.io", TestContext.Current.CancellationToken);

        Assert.Equal("bob", credential.Username);
    }

    [Fact]
    public async Task Get_NoFile_IsAnonymous()
    {
        using var dir = new TempDirectory();

        RegistryCredential credential = await new DockerConfigCredentials(dir.Combine("missing.json")).GetAsync("registry.test", TestContext.Current.CancellationToken);

        Assert.True(credential.IsAnonymous);
    }

    [Fact]
    public async Task StoreThenErase_WritesDockerReadableAuthsAndKeepsOtherKeys()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("config.json");
        await File.WriteAllTextAsync(path, """{"psFormat":"table"}""", TestContext.Current.CancellationToken);
        var config = new DockerConfigCredentials(path);

        await config.StoreAsync("127.0.0.1:5000", new RegistryCredential("carol", "pw"), TestContext.Current.CancellationToken);
        JsonNode stored = JsonNode.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken))!;
        bool erased = await config.EraseAsync("127.0.0.1:5000", TestContext.Current.CancellationToken);

        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("carol:pw")), stored["auths"]!["127.0.0.1:5000"]!["auth"]!.GetValue<string>());
        Assert.Equal("table", stored["psFormat"]!.GetValue<string>());
        Assert.True(erased);
        Assert.True((await config.GetAsync("127.0.0.1:5000", TestContext.Current.CancellationToken)).IsAnonymous);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Get_CredHelper_RunsHelperWithServerOnStdin()
    {
        using var dir = new TempDirectory();
        string helper = dir.Combine("docker-credential-fake");
        await File.WriteAllTextAsync(helper, """
            #!/bin/sh
            read server
            [ "$1" = get ] && [ "$server" = "registry.test" ] && printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-me"}' "$server" && exit 0
            echo "credentials not found in native keychain"; exit 1
            """.Replace("\r", "", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string path = dir.Combine("config.json");
        await File.WriteAllTextAsync(path, """{"credHelpers":{"registry.test":"fake"}}""", TestContext.Current.CancellationToken);
        var config = new DockerConfigCredentials(path, helperDirectory: dir.Path);

        RegistryCredential credential = await config.GetAsync("registry.test", TestContext.Current.CancellationToken);
        RegistryCredential other = await new DockerConfigCredentials(path, dir.Path).GetAsync("other.test", TestContext.Current.CancellationToken);

        Assert.Equal("refresh-me", credential.IdentityToken);
        Assert.True(other.IsAnonymous);
    }
}
