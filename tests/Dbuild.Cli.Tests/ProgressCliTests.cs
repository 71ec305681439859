using Dbuild.Testing;

namespace Dbuild.Cli.Tests;

/// <summary>
/// <c>dbuild build --progress</c> end to end on a FROM scratch context (no runtime needed): the live display under a
/// pseudo-terminal (util-linux <c>script</c>), and plain output whenever stderr is not a terminal.
/// </summary>
public sealed class ProgressCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<string> ContextAsync(string dockerfile)
    {
        string context = _dir.Combine("context");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), dockerfile, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(context, "hello.txt"), "hello\n", TestContext.Current.CancellationToken);
        return context;
    }

    /// <summary>Runs dbuild with its stdout and stderr on a pseudo-terminal; returns what the terminal received.</summary>
    private async Task<ProcessResult> RunUnderTerminalAsync(params string[] args)
    {
        string script = Prerequisites.RequireTool("script", "util-linux");
        string[] commandLine = ["dotnet", DbuildCli.DllPath, "--root", _dir.Combine("root"), .. args];
        string command = string.Join(' ', commandLine.Select(ShellQuote));
        // stdin is an empty pipe, so script never puts the runner's own terminal into raw mode.
        return await ProcessRunner.RunAsync(script, ["-qfec", command, "/dev/null"], TestContext.Current.CancellationToken,
            standardInput: "", timeout: TimeSpan.FromMinutes(2));
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [Fact]
    public async Task BuildTty_PseudoTerminal_RepaintsInPlaceAndEndsWithEveryStep()
    {
        string context = await ContextAsync("FROM scratch\nCOPY hello.txt /hello.txt\n");

        ProcessResult result = (await RunUnderTerminalAsync("build", "--progress", "tty", context)).EnsureSuccess();

        string output = result.StandardOutput;
        Assert.Matches(@"\e\[\d+A", output); // cursor up over the previous frame
        Assert.Contains("\e[2K", output, StringComparison.Ordinal); // erase line
        string final = output[output.LastIndexOf("[+] Building", StringComparison.Ordinal)..];
        Assert.Matches(@"^\[\+\] Building \d+\.\ds \((\d+)/\1\)\n", final);
        Assert.Matches(@"\n\e\[2K => \[internal\] load build definition from Dockerfile +\d+\.\ds\n", final);
        Assert.Matches(@"\n\e\[2K => \[2/2\] COPY hello\.txt /hello\.txt +\d+\.\ds\n", final);
        Assert.Matches(@"\n\e\[2K => exporting to image +\d+\.\ds\n", final);
        Assert.Matches(@"\nBuild finished in \d+\.\ds: 3 steps run, 0 cached\.\n$", final);
        Assert.DoesNotContain("#1 ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildTty_FailingStep_FinalPaintShowsTheErrorThenTheErrorMessage()
    {
        string context = await ContextAsync("FROM scratch\nCOPY --chown=nosuchuser hello.txt /hello.txt\n"); // scratch has no passwd file

        ProcessResult result = await RunUnderTerminalAsync("build", "--progress", "tty", context);

        Assert.Equal(1, result.ExitCode);
        string final = result.StandardOutput[result.StandardOutput.LastIndexOf("[+] Building", StringComparison.Ordinal)..];
        Assert.Matches(@"^\[\+\] Building \d+\.\ds \(2/2\)\n", final);
        Assert.Matches(@"\n\e\[2K => ERROR \[2/2\] COPY --chown=nosuchuser hello\.txt /hello\.txt +\d+\.\ds\n\e\[2K => => cache miss: .+\n\e\[2K => => error: unable to find user nosuchuser", final);
        Assert.Matches(@"\nerror: unable to find user nosuchuser.*\n$", final); // CommandRunner's one line comes after the display, not inside it
    }

    [Theory]
    [InlineData("auto")]
    [InlineData(null)] // no flag: auto is the default
    public async Task BuildAuto_StderrRedirected_PrintsPlain(string? progress)
    {
        string context = await ContextAsync("FROM scratch\nCOPY hello.txt /hello.txt\n");
        string[] flag = progress is null ? [] : ["--progress", progress];

        ProcessResult result = (await CliShellTests.RunAsync(["--root", _dir.Combine("root"), "build", .. flag, context])).EnsureSuccess();

        Assert.StartsWith("#1 [internal] load build definition from Dockerfile\n", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("\n#2 [2/2] COPY hello.txt /hello.txt\n", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain('\e', result.StandardError);
        Assert.DoesNotContain("[+] Building", result.StandardError, StringComparison.Ordinal);
    }
}
