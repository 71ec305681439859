using System.CommandLine;
using Dbuild.Registry.Client;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild login [-u USER] [--password-stdin] REGISTRY</c>: checks the credentials, then stores them as docker does.</summary>
internal static class LoginCommand
{
    public static Command Create()
    {
        Argument<string> registry = new("registry") { Description = "Registry host, e.g. ghcr.io or 127.0.0.1:5000 (default docker.io).", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "docker.io" };
        Option<string?> username = new("--username", "-u") { Description = "User name." };
        Option<string?> password = new("--password", "-p") { Description = "Password (prefer --password-stdin)." };
        Option<bool> passwordStdin = new("--password-stdin") { Description = "Read the password from stdin." };
        var command = new Command("login", "Log in to a registry (writes ~/.docker/config.json or the credential helper).") { registry, username, password, passwordStdin };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            string host = parseResult.GetValue(registry) ?? "docker.io";
            string user = parseResult.GetValue(username) ?? throw new UsageException("--username is required.");
            string? secret = parseResult.GetValue(passwordStdin) ? (await Console.In.ReadToEndAsync(token)).TrimEnd('\r', '\n') : parseResult.GetValue(password);
            if (string.IsNullOrEmpty(secret)) { throw new UsageException("A password is required (--password-stdin or --password)."); }
            var credential = new RegistryCredential(user, secret);
            using HttpClient http = BuildCommand.CreateHttpClient();
            var client = new RegistryClient(http, new RegistryClientOptions { Hosts = RegistrySetup.Hosts }, new StaticCredentialSource(new Dictionary<string, RegistryCredential> { [host] = credential }));
            await client.PingAsync(host, token);
            await new DockerConfigCredentials(BuildCommand.DockerConfigPath()).StoreAsync(host, credential, token);
            Console.WriteLine("Login Succeeded");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
