using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryDockerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DockerPushAndPull_ByTagAndByDigest()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        string config = work.Combine("docker-config");
        Directory.CreateDirectory(config);
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/busybox:1");
        string source = $"{registry.Host}/busybox:1";
        string pushed = $"{registry.Host}/team/app:2";
        try
        {
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", source)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", source, pushed)).EnsureSuccess();
            ProcessResult push = (await Tools.DockerAsync(dockerHost, config, null, Ct, "push", pushed)).EnsureSuccess();
            string digest = System.Text.RegularExpressions.Regex.Match(push.StandardOutput, "digest: (sha256:[0-9a-f]{64})").Groups[1].Value;
            Assert.False(string.IsNullOrEmpty(digest), push.StandardOutput);

            using var client = new HttpClient();
            (_, string served, string mediaType) = await Tools.GetManifestAsync(client, registry.BaseUrl, "team/app", "2", Ct);
            Assert.Equal(digest, served);
            Assert.Equal(Dbuild.Oci.MediaTypes.DockerManifest, mediaType);

            await Tools.DockerAsync(dockerHost, config, null, Ct, "rmi", "-f", source, pushed);
            string byDigest = $"{registry.Host}/team/app@{digest}";
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", byDigest)).EnsureSuccess();
            ProcessResult inspect = (await Tools.DockerAsync(dockerHost, config, null, Ct, "image", "inspect", "--format", "{{json .RepoDigests}}", byDigest)).EnsureSuccess();
            Assert.Contains(digest, inspect.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, config, null, CancellationToken.None, "rmi", "-f", source, pushed, $"{registry.Host}/team/app");
        }
    }

    [Fact]
    public async Task DockerLogin_WithHtpasswd_PushesAndAnonymousIsRefused()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        string htpasswdTool = Prerequisites.RequireTool("htpasswd", "apache2-utils");
        using var work = new TempDirectory();
        string config = work.Combine("docker-config");
        Directory.CreateDirectory(config);
        string htpasswd = work.Combine("htpasswd");
        (await ProcessRunner.RunAsync(htpasswdTool, ["-Bbc", htpasswd, "alice", "wonderland"], Ct)).EnsureSuccess();
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct,
            extra: $"auth:\n  htpasswd:\n    realm: dbuild-test\n    path: {htpasswd}\n");

        // Anonymous: 401 with a Basic challenge.
        using var client = new HttpClient();
        using HttpResponseMessage anonymous = await client.GetAsync($"{registry.BaseUrl}/v2/", Ct);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Basic realm=\"dbuild-test\"", anonymous.Headers.WwwAuthenticate.Single().ToString());

        ProcessResult badLogin = await Tools.DockerAsync(dockerHost, config, "wrong", Ct, "login", "-u", "alice", "--password-stdin", registry.Host);
        Assert.NotEqual(0, badLogin.ExitCode);
        (await Tools.DockerAsync(dockerHost, config, "wonderland", Ct, "login", "-u", "alice", "--password-stdin", registry.Host)).EnsureSuccess();

        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", "--dest-creds", "alice:wonderland", $"oci:{busybox}:latest", $"docker://{registry.Host}/private/busybox:1");
        string image = $"{registry.Host}/private/busybox:1";
        try
        {
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", image)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", image, $"{registry.Host}/private/copy:1")).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "push", $"{registry.Host}/private/copy:1")).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "logout", registry.Host)).EnsureSuccess();
            await Tools.DockerAsync(dockerHost, config, null, Ct, "rmi", "-f", image);
            ProcessResult refused = await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", image);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("no basic auth credentials", refused.StandardError + refused.StandardOutput, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, config, null, CancellationToken.None, "rmi", "-f", image, $"{registry.Host}/private/copy:1");
        }
        Assert.DoesNotContain("wonderland", registry.Output, StringComparison.Ordinal);
        Assert.Contains("user=alice", registry.Output, StringComparison.Ordinal);
    }
}
