using Dbuild.Testing;

namespace Dbuild.Cli.Tests;

/// <summary><c>dbuild build --check</c>: BuildKit's checks with file:line, exit 1 when one fires, 0 when none does.</summary>
public sealed class BuildCheckCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task BuildCheck_RuleFires_ReportsFileLineAndExitsOne()
    {
        await File.WriteAllTextAsync(_dir.Combine("Dockerfile"), "FROM scratch as Build\nCOPY . /src\n", TestContext.Current.CancellationToken);
        ProcessResult result = await CliShellTests.RunAsync("build", "--check", _dir.Path);
        Assert.Equal(1, result.ExitCode);
        string output = result.StandardOutput + result.StandardError;
        Assert.Contains("FromAsCasing", output, StringComparison.Ordinal);
        Assert.Contains("StageNameCasing", output, StringComparison.Ordinal);
        Assert.Contains("Dockerfile:1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildCheck_CleanDockerfile_ExitsZero()
    {
        await File.WriteAllTextAsync(_dir.Combine("Dockerfile"), "FROM scratch AS build\nCOPY . /src\nCMD [\"/src/app\"]\n", TestContext.Current.CancellationToken);
        ProcessResult result = await CliShellTests.RunAsync("build", "--check", _dir.Path);
        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("Casing", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }
}
