using System.CommandLine;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild debug …</c>: tools for comparing dbuild's internals with other implementations.</summary>
internal static class DebugCommand
{
    public static Command Create()
    {
        var command = new Command("debug", "Inspect dbuild's internals (parser dumps and the like).");
        return command;
    }
}
