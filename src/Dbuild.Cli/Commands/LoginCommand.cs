using System.CommandLine;
using System.Net;
using Dbuild.Registry.Client;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild login [-u USER] [-p PASS | --password-stdin] [SERVER]</c> as docker 20.10's: on a terminal it asks for what
/// is missing (<c>Username: </c>, then <c>Password: </c> without echo), checks the credentials against the registry,
/// stores them (warning on stderr when the password lands unencrypted in config.json) and prints <c>Login Succeeded</c>.
/// </summary>
internal static class LoginCommand
{
    public static Command Create()
    {
        Argument<string> registry = new("server") { Description = "Registry host, e.g. ghcr.io or 127.0.0.1:5000 (default docker.io).", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "docker.io" };
        Option<string?> username = new("--username", "-u") { Description = "Username." };
        Option<string?> password = new("--password", "-p") { Description = "Password (prefer --password-stdin)." };
        Option<bool> passwordStdin = new("--password-stdin") { Description = "Take the password from stdin." };
        var command = new Command("login", "Log in to a registry (writes ~/.docker/config.json or the credential helper).") { registry, username, password, passwordStdin };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            string host = parseResult.GetValue(registry) ?? "docker.io";
            string? user = parseResult.GetValue(username)?.Trim();
            string? secret = parseResult.GetValue(password);
            if (secret is not null) { await Console.Error.WriteLineAsync("WARNING! Using --password via the CLI is insecure. Use --password-stdin."); }
            if (parseResult.GetValue(passwordStdin))
            {
                if (secret is not null) { throw new UsageException("--password and --password-stdin are mutually exclusive"); }
                if (string.IsNullOrEmpty(user)) { throw new UsageException("Must provide --username with --password-stdin"); }
                secret = (await Console.In.ReadToEndAsync(token)).TrimEnd('\r', '\n');
            }
            var store = new DockerConfigCredentials(BuildCommand.DockerConfigPath());
            if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(secret))
            {
                if (!TerminalPrompt.IsInteractive) { throw new UsageException("Cannot perform an interactive login from a non TTY device"); }
                if (string.IsNullOrEmpty(user))
                {
                    string? previous = (await store.GetAsync(host, token)).Username;
                    user = TerminalPrompt.ReadLine(string.IsNullOrEmpty(previous) ? "Username: " : $"Username ({previous}): ");
                    if (user.Length == 0) { user = previous; }
                    if (string.IsNullOrEmpty(user)) { throw new UsageException("Non-null Username Required"); }
                }
                if (string.IsNullOrEmpty(secret))
                {
                    secret = TerminalPrompt.ReadHidden("Password: ");
                    if (secret.Length == 0) { throw new UsageException("Password Required"); }
                }
            }
            var credential = new RegistryCredential(user, secret);
            using HttpClient http = BuildCommand.CreateHttpClient();
            var client = new RegistryClient(http, RegistryResilienceSettings.Apply(new RegistryClientOptions { Hosts = RegistrySetup.Hosts }), new StaticCredentialSource(new Dictionary<string, RegistryCredential> { [host] = credential }));
            try
            {
                await client.PingAsync(host, token);
            }
            catch (RegistryException ex) when (ex.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new RegistryException($"login to {host} as \"{user}\" failed: {(int)ex.StatusCode!} unauthorized: incorrect username or password",
                    ex.StatusCode, ex.ErrorCode, isTransient: false, ex);
            }
            if (!await store.UsesHelperAsync(host, token))
            {
                await Console.Error.WriteLineAsync($"WARNING! Your password will be stored unencrypted in {store.Path}.\n" +
                    "Configure a credential helper to remove this warning. See\nhttps://docs.docker.com/engine/reference/commandline/login/#credentials-store\n");
            }
            await store.StoreAsync(host, credential, token);
            Console.WriteLine("Login Succeeded");
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }
}
