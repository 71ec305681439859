using System.CommandLine;
using Dbuild.Cli.Commands;

namespace Dbuild.Cli;

/// <summary>dbuild's verbs: one line per verb, each in Commands/&lt;Verb&gt;Command.cs. Tests walk this tree.</summary>
internal static class CommandTree
{
    /// <summary>No <c>@file</c> response files: docker reads <c>@x</c> as an argument like any other.</summary>
    public static ParserConfiguration Parser { get; } = new() { ResponseFileTokenReplacer = null };

    public static RootCommand Create()
    {
        RootCommand root = new("dbuild: build container images from Dockerfiles and serve an OCI registry.")
        {
            GlobalOptions.Root,
            GlobalOptions.Debug,
        };
        root.Subcommands.Add(DebugCommand.Create());
        root.Subcommands.Add(BuildCommand.Create());
        root.Subcommands.Add(PushCommand.Create());
        root.Subcommands.Add(PullCommand.Create());
        root.Subcommands.Add(ImagesCommand.Create());
        root.Subcommands.Add(TagCommand.Create());
        root.Subcommands.Add(RmiCommand.Create());
        root.Subcommands.Add(ImageCommand.Create());
        root.Subcommands.Add(SaveCommand.Create());
        root.Subcommands.Add(LoadCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(HistoryCommand.Create());
        root.Subcommands.Add(PruneCommand.Create());
        root.Subcommands.Add(BuilderCommand.Create());
        root.Subcommands.Add(SystemCommand.Create());
        root.Subcommands.Add(LoginCommand.Create());
        root.Subcommands.Add(LogoutCommand.Create());
        root.Subcommands.Add(ManifestCommand.Create());
        root.Subcommands.Add(ImagetoolsCommand.Create());
        root.Subcommands.Add(ImagetoolsCommand.CreateBuildx());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(RegistryCommand.Create());
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(CompletionCommand.Create());
        return root;
    }
}
