using System.CommandLine;
using System.Text;
using Dbuild.Dockerfile;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild debug …</c>: tools for comparing dbuild's internals with other implementations.</summary>
internal static class DebugCommand
{
    public static Command Create()
    {
        var command = new Command("debug", "Inspect dbuild's internals (parser dumps and the like).");
        command.Subcommands.Add(CreateParse());
        return command;
    }

    private static Command CreateParse()
    {
        Argument<FileInfo> file = new("file") { Description = "The Dockerfile to parse." };
        Option<bool> heredocs = new("--heredocs")
        {
            Description = "Print one line per heredoc (line, instruction, name, fd, expand, chomp, content) instead of the AST.",
        };
        var command = new Command("parse", "Print a Dockerfile's AST exactly as BuildKit's parser dumps it.") { file, heredocs };
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(parseResult,
            token => ParseAsync(parseResult.GetRequiredValue(file).FullName, parseResult.GetValue(heredocs), Console.OpenStandardOutput(), token),
            cancellationToken));
        return command;
    }

    /// <summary>Writes the dump (or the heredoc lines) as UTF-8 bytes to <paramref name="output"/>; nothing else.</summary>
    internal static async Task<int> ParseAsync(string path, bool heredocs, Stream output, CancellationToken cancellationToken)
    {
        if (!File.Exists(path)) { throw new UsageException($"{path}: no such file"); }
        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        ParsedDockerfile parsed = DockerfileParser.Parse(bytes, Path.GetFileName(path));
        string text = heredocs ? parsed.DumpHeredocs() : parsed.Dump();
        await output.WriteAsync(new UTF8Encoding(false).GetBytes(text), cancellationToken);
        await output.FlushAsync(cancellationToken);
        return ExitCodes.Ok;
    }
}
