using System.Text.Json;
using Dbuild.Testing;

namespace Dbuild.Cli.Tests;

/// <summary><c>dbuild version</c> and <c>dbuild info</c>: docker's layout in text, and <c>--format '{{json .}}'</c>.</summary>
public sealed class VersionInfoTests
{
    [Fact]
    public async Task Version_ClientBlock_AndJson()
    {
        ProcessResult text = (await CliShellTests.RunAsync("version")).EnsureSuccess();
        ProcessResult json = (await CliShellTests.RunAsync("version", "--format", "{{json .}}")).EnsureSuccess();

        string[] lines = text.StandardOutput.Split('\n');
        Assert.Equal("Client:", lines[0]);
        Assert.Matches(@"^ Version:\s+\d+\.\d+\.\d+", lines[1]);
        Assert.Contains(lines, l => l.StartsWith(" OS/Arch:           linux/", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith(" .NET version:      .NET ", StringComparison.Ordinal));
        using JsonDocument doc = JsonDocument.Parse(json.StandardOutput);
        JsonElement client = doc.RootElement.GetProperty("Client");
        Assert.Equal("linux", client.GetProperty("Os").GetString());
        Assert.Equal(lines[1].Split(':', 2)[1].Trim(), client.GetProperty("Version").GetString());
    }

    [Fact]
    public async Task Info_ShowsRootImagesCacheAndRegistries()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-info-");
        Directory.CreateDirectory(temp.Combine("config"));
        await File.WriteAllTextAsync(temp.Combine("config", "config.json"), """{"auths":{"registry.example:5000":{"auth":"dTpw"}}}""", ct);
        var environment = new Dictionary<string, string?> { ["DOCKER_CONFIG"] = temp.Combine("config"), ["DBUILD_INSECURE_REGISTRIES"] = "plain.example:80" };

        ProcessResult text = (await DbuildCli.RunAsync(["info", "--root", temp.Combine("root")], ct, environment)).EnsureSuccess();
        ProcessResult json = (await DbuildCli.RunAsync(["info", "--root", temp.Combine("root"), "-f", "{{json .}}"], ct, environment)).EnsureSuccess();

        Assert.Contains($" Dbuild Root Dir: {temp.Combine("root")}\n", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(" Images: 0\n", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(" Logged In Registries:\n  registry.example:5000\n", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(" Insecure Registries:\n  127.0.0.0/8\n  plain.example:80\n", text.StandardOutput, StringComparison.Ordinal);
        using JsonDocument doc = JsonDocument.Parse(json.StandardOutput);
        Assert.Equal(temp.Combine("root"), doc.RootElement.GetProperty("DbuildRootDir").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("BuildCacheSize").GetInt64());
        Assert.Equal(Environment.ProcessorCount, doc.RootElement.GetProperty("NCPU").GetInt32());
    }

    [Fact]
    public async Task Format_OtherThanJson_IsAUsageError()
    {
        ProcessResult result = await CliShellTests.RunAsync("version", "--format", "{{.Client.Version}}");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: --format '{{.Client.Version}}': only '{{json .}}' is supported here.\n", result.StandardError);
    }
}
