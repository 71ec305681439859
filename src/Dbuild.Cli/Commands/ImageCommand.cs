using System.CommandLine;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild image VERB</c>: docker's management group for images; each verb is the same command as its short form.</summary>
internal static class ImageCommand
{
    public static Command Create()
    {
        var command = new Command("image", "Manage images.");
        command.Subcommands.Add(ImagePruneCommand.Create());
        command.Subcommands.Add(RmiCommand.Create("rm"));
        command.Subcommands.Add(SaveCommand.Create());
        command.Subcommands.Add(LoadCommand.Create());
        command.Subcommands.Add(ImportCommand.Create());
        return command;
    }
}
