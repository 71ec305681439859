using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.TokenAuth;

/// <summary>
/// The built-in issuer on two replicas sharing one Azurite container behind nginx (round robin), with no key
/// configured: the key generated into storage once is used by both, so a token one replica issued is accepted by the
/// other, and the realm follows the Host the client used (nginx's).
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class BuiltinTokenReplicaTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Docker_LoginPushPull_ThroughNginx_AcrossReplicasOnAzure()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        string htpasswdTool = Prerequisites.RequireTool("htpasswd", "apache2-utils");
        using var work = new TempDirectory();
        string htpasswd = work.Combine("htpasswd");
        (await ProcessRunner.RunAsync(htpasswdTool, ["-Bbc", htpasswd, "alice", "wonderland"], Ct)).EnsureSuccess();
        string auth = $"auth:\n  token:\n    builtin:\n      htpasswd: {htpasswd}\n";
        await using AzuriteServer azurite = await AzuriteServer.StartAsync(Ct);
        await using RegistryServer first = await AzureRegistryTests.StartReplicaAsync(azurite, work.Path, "tokens", redirect: false, Ct, auth);
        await using RegistryServer second = await AzureRegistryTests.StartReplicaAsync(azurite, work.Path, "tokens", redirect: false, Ct, auth);
        await using NginxProxy proxy = await NginxProxy.StartAsync(work.Combine("nginx"), [first.Port, second.Port], Ct);

        string config = work.Combine("docker-config");
        Directory.CreateDirectory(config);
        string image = $"{proxy.Host}/alice/busybox:1";
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", "--dest-creds", "alice:wonderland", $"oci:{busybox}:latest", $"docker://{image}");
        try
        {
            (await Tools.DockerAsync(dockerHost, config, "wonderland", Ct, "login", "-u", "alice", "--password-stdin", proxy.Host)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", image)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", image, $"{proxy.Host}/alice/copy:1")).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "push", $"{proxy.Host}/alice/copy:1")).EnsureSuccess();
            await Tools.DockerAsync(dockerHost, config, null, Ct, "rmi", "-f", image, $"{proxy.Host}/alice/copy:1");
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", $"{proxy.Host}/alice/copy:1")).EnsureSuccess();
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, config, null, CancellationToken.None, "rmi", "-f", image, $"{proxy.Host}/alice/copy:1");
        }
        // Each replica answered token-authorized requests with success, so each accepted tokens the other signed
        // (tokens and requests alternate between them); with a key per replica the push above would have failed.
        string[] log = proxy.AccessLog.Split('\n');
        foreach (RegistryServer replica in new[] { first, second })
        {
            Assert.Contains(log, line => System.Text.RegularExpressions.Regex.IsMatch(line, $"^(GET|HEAD|PUT|POST|PATCH) /v2/alice/\\S+ 2\\d\\d 127\\.0\\.0\\.1:{replica.Port}$"));
        }
        Assert.Contains(log, line => line.StartsWith("GET /auth/token 200 ", StringComparison.Ordinal));
    }
}
