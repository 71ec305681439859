using Dbuild.Testing;

namespace Dbuild.Cli.Tests;

/// <summary>The dbuild executable itself: version, help, error shape and exit codes.</summary>
public sealed class CliShellTests
{
    internal static Task<ProcessResult> RunAsync(params string[] args) =>
        DbuildCli.RunAsync(args, TestContext.Current.CancellationToken, timeout: TimeSpan.FromMinutes(1));

    [Fact]
    public async Task Version_PrintsVersion()
    {
        ProcessResult result = (await RunAsync("--version")).EnsureSuccess();
        Assert.Matches(@"^\d+\.\d+\.\d+", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Help_ListsGlobalOptions()
    {
        ProcessResult result = (await RunAsync("--help")).EnsureSuccess();
        Assert.Contains("--root", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("--debug", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownVerb_ExitsNonZeroWithMessageOnStderr()
    {
        ProcessResult result = await RunAsync("no-such-verb");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no-such-verb", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failure_IsOneLineWithoutStackTrace_UnlessDebug()
    {
        ProcessResult plain = await RunAsync("verify", "/nonexistent/layout");
        Assert.Equal(1, plain.ExitCode);
        string[] lines = plain.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains("/nonexistent/layout", lines[0], StringComparison.Ordinal);

        ProcessResult debug = await RunAsync("verify", "/nonexistent/layout", "--debug");
        Assert.Equal(1, debug.ExitCode);
        Assert.Contains(" at ", debug.StandardError, StringComparison.Ordinal);
    }
}
