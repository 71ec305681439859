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
root.Subcommands.Add(VerifyCommand.Create());
root.Subcommands.Add(RegistryCommand.Create());

return await root.Parse(args).InvokeAsync();
