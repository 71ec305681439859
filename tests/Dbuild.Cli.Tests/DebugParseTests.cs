using System.Text;
using Dbuild.Cli.Commands;
using Dbuild.Testing;

namespace Dbuild.Cli.Tests;

/// <summary><c>dbuild debug parse</c> and the build-check reporter behind <c>dbuild build --check</c>.</summary>
public sealed class DebugParseTests
{
    [Fact]
    public async Task ParseAsync_CorpusFileWithHeredocs_PrintsExactDumpAndHeredocs()
    {
        string dir = Path.GetDirectoryName(Directory.EnumerateFiles(SharedData.RequireCorpus(), "heredocs", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First())!;
        using var dump = new MemoryStream();
        Assert.Equal(0, await DebugCommand.ParseAsync(Path.Combine(dir, "Dockerfile"), heredocs: false, dump, TestContext.Current.CancellationToken));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(dir, "result"), TestContext.Current.CancellationToken), dump.ToArray());
        using var heredocs = new MemoryStream();
        Assert.Equal(0, await DebugCommand.ParseAsync(Path.Combine(dir, "Dockerfile"), heredocs: true, heredocs, TestContext.Current.CancellationToken));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(dir, "heredocs"), TestContext.Current.CancellationToken), heredocs.ToArray());
    }

    [Fact]
    public async Task DebugParse_Process_StdoutIsTheDumpOnly()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("Dockerfile");
        await File.WriteAllTextAsync(file, "FROM scratch\nCOPY --link a b\nCMD [\"x\"]\n", TestContext.Current.CancellationToken);
        ProcessResult result = (await CliShellTests.RunAsync("debug", "parse", file)).EnsureSuccess();
        Assert.Equal("(from \"scratch\")\n(copy [\"--link\"] \"a\" \"b\")\n(cmd \"x\")\n", result.StandardOutput);
    }

    [Fact]
    public async Task DebugParse_Process_SyntaxErrorExits2WithLocation()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("Dockerfile");
        await File.WriteAllTextAsync(file, "FROM scratch\nCMD [\"a\", 1]\n", TestContext.Current.CancellationToken);
        ProcessResult result = await CliShellTests.RunAsync("debug", "parse", file);
        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.StandardOutput);
        Assert.Contains("Dockerfile:2:1: when using JSON array syntax", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportAsync_ChecksFire_PrintsLinesAndReturns1()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("Dockerfile");
        await File.WriteAllTextAsync(file, "FROM scratch as Build\nCMD run.sh\n", TestContext.Current.CancellationToken);
        var output = new StringWriter(new StringBuilder()) { NewLine = "\n" };
        int exit = await BuildChecksReporter.ReportAsync(file, new Dictionary<string, string>(), null, output, TestContext.Current.CancellationToken);
        Assert.Equal(1, exit);
        Assert.Equal(
            "Dockerfile:1 StageNameCasing: Stage name 'Build' should be lowercase\n" +
            "Dockerfile:1 FromAsCasing: 'as' and 'FROM' keywords' casing do not match\n" +
            "Dockerfile:2 JSONArgsRecommended: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals\n",
            output.ToString());
    }

    [Fact]
    public async Task ReportAsync_CleanDockerfile_Returns0AndPrintsNothing()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("Dockerfile");
        await File.WriteAllTextAsync(file, "FROM scratch AS build\nCMD [\"run.sh\"]\n", TestContext.Current.CancellationToken);
        var output = new StringWriter();
        Assert.Equal(0, await BuildChecksReporter.ReportAsync(file, new Dictionary<string, string>(), null, output, TestContext.Current.CancellationToken));
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task ReportAsync_UsesDockerignoreBesideDockerfile()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("Dockerfile");
        await File.WriteAllTextAsync(file, "FROM scratch\nCOPY secret.env /\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(temp.Combine(".dockerignore"), "*.env\n", TestContext.Current.CancellationToken);
        var output = new StringWriter();
        Assert.Equal(1, await BuildChecksReporter.ReportAsync(file, new Dictionary<string, string>(), null, output, TestContext.Current.CancellationToken));
        Assert.Contains("Dockerfile:2 CopyIgnoredFile: Attempting to Copy file \"secret.env\" that is excluded by .dockerignore", output.ToString(), StringComparison.Ordinal);
    }
}
