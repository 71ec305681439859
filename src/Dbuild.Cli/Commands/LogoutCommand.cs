using System.CommandLine;
using Dbuild.Registry.Client;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild logout [REGISTRY]</c>.</summary>
internal static class LogoutCommand
{
    public static Command Create()
    {
        Argument<string> registry = new("registry") { Description = "Registry host (default docker.io).", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "docker.io" };
        var command = new Command("logout", "Remove stored credentials for a registry.") { registry };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            string host = parseResult.GetValue(registry) ?? "docker.io";
            bool removed = await new DockerConfigCredentials(BuildCommand.DockerConfigPath()).EraseAsync(host, token);
            Console.WriteLine(removed ? $"Removing login credentials for {host}" : $"Not logged in to {host}");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
