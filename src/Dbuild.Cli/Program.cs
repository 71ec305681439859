using System.CommandLine;
using Dbuild.Cli;
using Dbuild.Cli.Rootless;

ServerTiering.ReExecIfServing(args);

RootCommand root = CommandTree.Create();
ParseResult parsed = root.Parse(args, CommandTree.Parser);
if (UsageErrors.Report(parsed, args, Console.Error) is { } usage) { return usage; }
UserNamespaceEntry.EnterIfNeeded(parsed); // a plain user with /etc/subuid ranges: build (and co.) go on inside a user namespace

// Ctrl+C / SIGTERM cancel the action's token; give it time to finish: the registry drains in-flight requests
// (up to 30 s) and a build deletes its containers and mounts, instead of System.CommandLine's default 2 s.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(45) });
