using System.CommandLine;
using Dbuild.Solver;
using Dbuild.Solver.Store;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild load [-i FILE] [-q]</c>: docker's load, of a docker save archive or an OCI layout archive.</summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        Option<string?> input = new("--input", "-i") { Description = "Read from tar archive file, instead of STDIN." };
        Option<bool> quiet = new("--quiet", "-q") { Description = "Suppress the load output (dbuild shows no progress; the loaded names are still printed, as docker does)." };
        var command = new Command("load", "Load an image from a tar archive (docker save or OCI layout) or STDIN.") { input, quiet };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            string? file = parseResult.GetValue(input);
            if (file is null && !Console.IsInputRedirected) { throw new BuildException("requested load from stdin, but stdin is empty"); }
            if (file is not null && !File.Exists(file)) { throw new BuildException($"open {file}: no such file or directory"); }
            await using Stream stream = file is null ? Console.OpenStandardInput() : File.OpenRead(file);
            IReadOnlyList<string> lines = await new ArchiveLoader(new LocalImages(GlobalOptions.ResolveRoot(parseResult))).LoadAsync(stream, token);
            foreach (string line in lines) { Console.WriteLine(line); }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
