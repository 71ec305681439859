using System.CommandLine;
using Dbuild.Cli;
using Dbuild.Cli.Commands;

RootCommand root = new("dbuild: build container images from Dockerfiles and serve an OCI registry.")
{
    GlobalOptions.Root,
    GlobalOptions.Debug,
};
// One line per verb; each verb lives in Commands/<Verb>Command.cs.
root.Subcommands.Add(DebugCommand.Create());
root.Subcommands.Add(BuildCommand.Create());
root.Subcommands.Add(PushCommand.Create());
root.Subcommands.Add(PullCommand.Create());
root.Subcommands.Add(ImagesCommand.Create());
root.Subcommands.Add(TagCommand.Create());
root.Subcommands.Add(RmiCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(HistoryCommand.Create());
root.Subcommands.Add(ImageCommand.Create());
root.Subcommands.Add(PruneCommand.Create());
root.Subcommands.Add(BuilderCommand.Create());
root.Subcommands.Add(SystemCommand.Create());
root.Subcommands.Add(LoginCommand.Create());
root.Subcommands.Add(LogoutCommand.Create());
root.Subcommands.Add(ManifestCommand.Create());
root.Subcommands.Add(VerifyCommand.Create());
root.Subcommands.Add(RegistryCommand.Create());

// Ctrl+C / SIGTERM cancel the action's token; give it time to finish: the registry drains in-flight requests
// (up to 30 s) and a build deletes its containers and mounts, instead of System.CommandLine's default 2 s.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(45) });
