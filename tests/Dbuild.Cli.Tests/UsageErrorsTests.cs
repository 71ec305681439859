using System.CommandLine;
using Dbuild.Testing;

namespace Dbuild.Cli.Tests;

/// <summary>
/// Every verb of the real command tree (so verbs added later are covered too), run as the dbuild executable: an
/// unknown flag, a wrong argument count and <c>--help</c> answer as docker 20.10's CLI does (exit 2 where docker's is 125
/// or 1: README's usage code).
/// </summary>
public sealed class UsageErrorsTests
{
    public static TheoryData<string> Verbs() => [.. Walk(CommandTree.Create(), []).Select(p => string.Join(' ', p))];

    public static TheoryData<string> VerbsWithArguments() =>
        [.. Walk(CommandTree.Create(), []).Where(p => Find(p).Arguments.Any(a => a.Arity.MinimumNumberOfValues > 0)).Select(p => string.Join(' ', p))];

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task UnknownFlag_DockerMessage_Exit2_NothingOnStdout(string verb)
    {
        string[] path = verb.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        ProcessResult longFlag = await CliShellTests.RunAsync([.. path, "--no-such-flag"]);
        ProcessResult shorthand = await CliShellTests.RunAsync([.. path, "-Z"]);

        Assert.Equal((2, "", $"unknown flag: --no-such-flag\nSee '{Path(verb)} --help'.\n"), (longFlag.ExitCode, longFlag.StandardOutput, longFlag.StandardError));
        Assert.Equal((2, "", $"unknown shorthand flag: 'Z' in -Z\nSee '{Path(verb)} --help'.\n"), (shorthand.ExitCode, shorthand.StandardOutput, shorthand.StandardError));
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Help_OnStdout_Exit0(string verb)
    {
        ProcessResult result = await CliShellTests.RunAsync([.. verb.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StandardError);
        Assert.Contains("Usage:", result.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(VerbsWithArguments))]
    public async Task MissingArguments_DockerMessageWithUsage_Exit2(string verb)
    {
        ProcessResult result = await CliShellTests.RunAsync(verb.Split(' '));

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        string[] lines = result.StandardError.Split('\n');
        Assert.Matches($"^\"{Path(verb)}\" requires (exactly [0-9]+ arguments?|at least [0-9]+ arguments?|at least [0-9]+ and at most [0-9]+ arguments)\\.$", lines[0]);
        Assert.Equal($"See '{Path(verb)} --help'.", lines[1]);
        Assert.StartsWith($"Usage:  {Path(verb)} ", lines[3], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "tag", "a" }, "\"dbuild tag\" requires exactly 2 arguments.")]
    [InlineData(new[] { "tag", "a", "b", "c" }, "\"dbuild tag\" requires exactly 2 arguments.")]
    [InlineData(new[] { "rmi" }, "\"dbuild rmi\" requires at least 1 argument.")]
    [InlineData(new[] { "login", "a", "b" }, "\"dbuild login\" requires at most 1 argument.")]
    [InlineData(new[] { "images", "-qz" }, "unknown shorthand flag: 'z' in -qz")]
    [InlineData(new[] { "images", "--quiet=x" }, "invalid argument \"x\" for \"-q, --quiet\" flag: not a boolean (true or false)")]
    [InlineData(new[] { "build", "-t" }, "flag needs an argument: 't' in -t")]
    [InlineData(new[] { "images", "--root" }, "flag needs an argument: --root")]
    [InlineData(new[] { "no-such-verb" }, "dbuild: 'no-such-verb' is not a dbuild command.")]
    [InlineData(new[] { "builder", "nope" }, "dbuild: 'builder nope' is not a dbuild command.")]
    public async Task DockerWording_Exit2(string[] args, string firstLine)
    {
        ProcessResult result = await CliShellTests.RunAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal(firstLine, result.StandardError.Split('\n')[0]);
    }

    [Fact]
    public async Task NoVerb_PrintsHelpOnStderr_Exit0_AsDocker()
    {
        ProcessResult result = await CliShellTests.RunAsync();

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Contains("Usage:", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("build", result.StandardError, StringComparison.Ordinal);
    }

    private static string Path(string verb) => verb.Length == 0 ? "dbuild" : "dbuild " + verb;

    private static Command Find(IReadOnlyList<string> path)
    {
        Command command = CommandTree.Create();
        foreach (string name in path) { command = command.Subcommands.Single(c => c.Name == name); }
        return command;
    }

    private static IEnumerable<IReadOnlyList<string>> Walk(Command command, IReadOnlyList<string> path)
    {
        yield return path;
        foreach (Command sub in command.Subcommands.Where(c => !c.Hidden))
        {
            foreach (IReadOnlyList<string> p in Walk(sub, [.. path, sub.Name])) { yield return p; }
        }
    }
}
