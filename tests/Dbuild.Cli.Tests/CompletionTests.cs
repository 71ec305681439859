using Dbuild.Testing;

namespace Dbuild.Cli.Tests;

/// <summary><c>dbuild completion bash</c> sourced in a real bash: verbs, subcommands and each command's flags complete.</summary>
public sealed class CompletionTests
{
    [Theory]
    [InlineData("dbuild bu", "build builder buildx")]
    [InlineData("dbuild builder ", "prune")]
    [InlineData("dbuild build -t x --ta", "--tag --target")]
    [InlineData("dbuild builder prune --a", "--all")]
    [InlineData("dbuild images --q", "--quiet")]
    [InlineData("dbuild images --ro", "--root")] // a global flag
    [InlineData("dbuild comp", "completion")]
    public async Task Bash_CompletesVerbsAndFlags(string line, string expected)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-completion-");
        ProcessResult script = (await CliShellTests.RunAsync("completion", "bash")).EnsureSuccess();
        await File.WriteAllTextAsync(temp.Combine("dbuild.bash"), script.StandardOutput, ct);
        string bash = Prerequisites.RequireTool("bash", "bash");
        string[] words = line.Split(' ');

        ProcessResult completed = (await ProcessRunner.RunAsync(bash, ["-c",
            "source \"$0\"; COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _dbuild; echo \"${COMPREPLY[*]}\"; complete -p dbuild",
            temp.Combine("dbuild.bash"), .. words], ct)).EnsureSuccess();

        string[] output = completed.StandardOutput.Split('\n');
        Assert.Equal(expected, output[0]);
        Assert.Equal("complete -o default -F _dbuild dbuild", output[1]);
    }

    [Theory]
    [InlineData("zsh", "#compdef dbuild")]
    [InlineData("fish", "complete -c dbuild -n 'test \"(__dbuild_path)\" = \"builder\"' -a 'prune'")]
    public async Task ZshAndFish_ScriptsNameTheTree(string shell, string expected)
    {
        ProcessResult script = (await CliShellTests.RunAsync("completion", shell)).EnsureSuccess();

        Assert.Contains(expected, script.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("build", script.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownShell_UsageError()
    {
        ProcessResult result = await CliShellTests.RunAsync("completion", "powershell");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Contains("powershell", result.StandardError.Split('\n')[0], StringComparison.Ordinal);
    }
}
