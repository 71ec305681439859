using System.CommandLine;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild image</c>: docker's management group for images (<c>image ls</c>, <c>image inspect</c>, …).</summary>
internal static class ImageCommand
{
    public static Command Create()
    {
        var command = new Command("image", "Manage images.");
        // One line per verb; each verb's options live in its own Commands/<Verb>Command.cs.
        command.Subcommands.Add(ImagesCommand.Create("ls", "list"));
        command.Subcommands.Add(InspectCommand.Create("image"));
        command.Subcommands.Add(HistoryCommand.Create());
        command.Subcommands.Add(ImagePruneCommand.Create());
        command.Subcommands.Add(RmiCommand.Create("rm"));
        command.Subcommands.Add(SaveCommand.Create());
        command.Subcommands.Add(LoadCommand.Create());
        command.Subcommands.Add(ImportCommand.Create());
        return command;
    }
}
