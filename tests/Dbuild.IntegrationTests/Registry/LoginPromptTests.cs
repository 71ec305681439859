using System.Text;
using System.Text.Json;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// <c>dbuild login SERVER</c> on a pseudo-terminal against registry:2 with htpasswd, next to docker 20.10's
/// <c>docker login</c> answered the same way: the same prompts, the password never shown, the same warning and
/// <c>Login Succeeded</c>; a wrong password and a missing terminal give one line.
/// </summary>
public sealed class LoginPromptTests
{
    private const string User = "tester";
    private const string Password = "s3cret-Pa55";

    [Fact]
    public async Task Login_OnATerminal_PromptsHidesThePasswordAndWarns_AsDockerLogin()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string docker = Prerequisites.RequireDocker();
        await using DistributionRegistry registry = await DistributionRegistry.StartAsync(ct, basicAuth: (User, Password));
        using var temp = new TempDirectory("dbuild-login-");

        ProcessResult dbuild = await OnTerminalAsync(temp.Combine("dbuild-config"), ["dotnet", DbuildCli.DllPath, "login", registry.Host], null, Password, ct);
        ProcessResult real = await OnTerminalAsync(temp.Combine("docker-config"), ["/usr/bin/docker", "login", registry.Host], docker, Password, ct);

        Assert.Equal(0, real.ExitCode);
        Assert.Equal(0, dbuild.ExitCode);
        Assert.Equal(real.StandardOutput.Replace(temp.Combine("docker-config"), "CONFIG", StringComparison.Ordinal),
            dbuild.StandardOutput.Replace(temp.Combine("dbuild-config"), "CONFIG", StringComparison.Ordinal));
        Assert.DoesNotContain(Password, dbuild.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("WARNING! Your password will be stored unencrypted in CONFIG/config.json.",
            dbuild.StandardOutput.Replace(temp.Combine("dbuild-config"), "CONFIG", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.EndsWith("Login Succeeded\n", dbuild.StandardOutput, StringComparison.Ordinal);
        using JsonDocument config = JsonDocument.Parse(await File.ReadAllTextAsync(temp.Combine("dbuild-config", "config.json"), ct));
        string auth = config.RootElement.GetProperty("auths").GetProperty(registry.Host).GetProperty("auth").GetString()!;
        Assert.Equal($"{User}:{Password}", Encoding.UTF8.GetString(Convert.FromBase64String(auth)));
    }

    [Fact]
    public async Task Login_WrongPassword_OneLine_NothingStored()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using DistributionRegistry registry = await DistributionRegistry.StartAsync(ct, basicAuth: (User, Password));
        using var temp = new TempDirectory("dbuild-login-");

        ProcessResult prompted = await OnTerminalAsync(temp.Combine("config"), ["dotnet", DbuildCli.DllPath, "login", registry.Host], null, "wrong", ct);
        ProcessResult piped = await DbuildCli.RunAsync(["login", "-u", User, "--password-stdin", registry.Host], ct,
            new Dictionary<string, string?> { ["DOCKER_CONFIG"] = temp.Combine("config") }, standardInput: "wrong\n");

        string expected = $"error: login to {registry.Host} as \"{User}\" failed: 401 unauthorized: incorrect username or password";
        Assert.Equal(1, prompted.ExitCode);
        Assert.EndsWith("Password: \n" + expected + "\n", prompted.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, piped.ExitCode);
        Assert.Equal(expected + "\n", piped.StandardError);
        Assert.Equal("", piped.StandardOutput);
        Assert.False(File.Exists(temp.Combine("config", "config.json")));
    }

    [Fact]
    public async Task Login_NoTerminalNoPassword_OneUsageLine()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-login-");

        ProcessResult result = await DbuildCli.RunAsync(["login", "127.0.0.1:1"], ct,
            new Dictionary<string, string?> { ["DOCKER_CONFIG"] = temp.Path }, standardInput: "");
        ProcessResult noUser = await DbuildCli.RunAsync(["login", "--password-stdin", "127.0.0.1:1"], ct,
            new Dictionary<string, string?> { ["DOCKER_CONFIG"] = temp.Path }, standardInput: "x\n");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("error: Cannot perform an interactive login from a non TTY device\n", result.StandardError);
        Assert.Equal(2, noUser.ExitCode);
        Assert.Equal("error: Must provide --username with --password-stdin\n", noUser.StandardError);
    }

    /// <summary>Runs the command on a pty (testdata/cli/pty-login.py answers the prompts); stdout is what the terminal showed.</summary>
    private static Task<ProcessResult> OnTerminalAsync(string configDirectory, IReadOnlyList<string> command, string? dockerHost, string password, CancellationToken ct)
    {
        string python = Prerequisites.RequireTool("python3", "python3");
        var environment = new Dictionary<string, string?>
        {
            ["DOCKER_CONFIG"] = configDirectory,
            ["LOGIN_USER"] = User,
            ["LOGIN_PASSWORD"] = password,
            ["TERM"] = "dumb",
        };
        if (dockerHost is not null) { environment["DOCKER_HOST"] = dockerHost; }
        return ProcessRunner.RunAsync(python, [Path.Combine(RepositoryPaths.TestData, "cli", "pty-login.py"), .. command], ct, environment, timeout: TimeSpan.FromMinutes(2));
    }
}
