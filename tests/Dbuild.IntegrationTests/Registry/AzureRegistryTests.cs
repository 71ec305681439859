using System.Net;
using System.Text.RegularExpressions;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary><c>dbuild registry serve</c> on the Azure driver (Azurite), with real docker, skopeo and podman.</summary>
[Collection(RegistryEndToEnd.Name)]
public sealed partial class AzureRegistryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Starts one replica over <paramref name="container"/> (rootdirectory <c>registry</c>) on a free port.</summary>
    // extra: more top-level config.yml sections (e.g. auth:).
    internal static async Task<RegistryServer> StartReplicaAsync(AzuriteServer azurite, string work, string container, bool redirect, CancellationToken cancellationToken,
        string extra = "")
    {
        int port = RegistryServer.FreePort();
        string config = Path.Combine(work, $"azure-{port}.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: info
            storage:
            {azurite.ConfigSection(container, "/registry")}
              delete:
                enabled: true
              redirect:
                disable: {(redirect ? "false" : "true")}
            http:
              addr: 127.0.0.1:{port}
            {extra}
            """, cancellationToken);
        return await RegistryServer.StartDbuildAsync(config, port, "", cancellationToken);
    }

    [Fact]
    public async Task Docker_PushAndPull_OnAzure()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using AzuriteServer azurite = await AzuriteServer.StartAsync(Ct);
        await using RegistryServer registry = await StartReplicaAsync(azurite, work.Path, "docker", redirect: false, Ct);
        await DockerRoundTripAsync(dockerHost, busybox, work, registry.Host, registry.BaseUrl);
    }

    [Fact]
    public async Task SkopeoCopyAll_MultiArchIndex_OnAzure()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using AzuriteServer azurite = await AzuriteServer.StartAsync(Ct);
        await using RegistryServer registry = await StartReplicaAsync(azurite, work.Path, "skopeo", redirect: false, Ct);
        await SkopeoAllRoundTripAsync(busybox, work, registry.Host, registry.BaseUrl);
    }

    [Fact]
    public async Task Podman_PushAndPull_OnAzure()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        Prerequisites.RequireRoot("podman with its own storage root under a temp folder");
        using var work = new TempDirectory();
        await using AzuriteServer azurite = await AzuriteServer.StartAsync(Ct);
        await using RegistryServer registry = await StartReplicaAsync(azurite, work.Path, "podman", redirect: false, Ct);
        await PodmanRoundTripAsync(busybox, work, registry.Host, registry.BaseUrl);
    }

    [Fact]
    public async Task Redirect_DockerPullFollowsTheSasUrl_AndBlobGetsAnswer307()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using AzuriteServer azurite = await AzuriteServer.StartAsync(Ct);
        await using RegistryServer registry = await StartReplicaAsync(azurite, work.Path, "redirect", redirect: true, Ct);
        // An arm64 image no docker has yet: its config and layer must be downloaded.
        (string layout, _) = TestImages.MakeMultiArchLayout(busybox, work.Combine("multi"), $"unique {Guid.NewGuid()}\n");
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--dest-tls-verify=false", $"oci:{layout}:multi", $"docker://{registry.Host}/redirect/multi:1");
        string config = work.Combine("docker-config");
        Directory.CreateDirectory(config);
        string image = $"{registry.Host}/redirect/multi:1";
        try
        {
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", "--platform", "linux/arm64", image)).EnsureSuccess();
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, config, null, CancellationToken.None, "rmi", "-f", image);
        }

        // docker's blob GETs were answered 307 (it then read Azurite directly), none with the bytes.
        MatchCollection redirected = BlobGet307().Matches(registry.Output);
        Assert.True(redirected.Count >= 2, $"expected the config and the layer to be redirected:\n{registry.Output}");
        Assert.DoesNotMatch(BlobGet200(), registry.Output);

        // The redirect itself: a read-only SAS URL on Azurite that serves the blob's bytes.
        string digest = redirected[0].Groups[1].Value;
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using HttpResponseMessage redirect = await client.GetAsync($"{registry.BaseUrl}/v2/redirect/multi/blobs/{digest}", Ct);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
        Uri location = redirect.Headers.Location!;
        Assert.StartsWith($"{azurite.ServiceUrl}/redirect/registry/docker/registry/v2/blobs/sha256/", location.AbsoluteUri, StringComparison.Ordinal);
        Assert.Contains("sig=", location.Query, StringComparison.Ordinal);
        Assert.Equal(digest, Dbuild.Oci.Digest.Compute(await client.GetByteArrayAsync(location, Ct)).ToString());
    }

    [GeneratedRegex(@"GET /v2/redirect/multi/blobs/(sha256:[0-9a-f]{64}) 307")]
    private static partial Regex BlobGet307();

    [GeneratedRegex(@"GET /v2/redirect/multi/blobs/sha256:[0-9a-f]{64} 200")]
    private static partial Regex BlobGet200();

    // ---- client round trips, shared with the replica tests ----

    internal static async Task DockerRoundTripAsync(string dockerHost, string busybox, TempDirectory work, string host, string baseUrl)
    {
        string config = work.Combine("docker-config");
        Directory.CreateDirectory(config);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{host}/busybox:1");
        string source = $"{host}/busybox:1";
        string pushed = $"{host}/team/app:2";
        try
        {
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", source)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", source, pushed)).EnsureSuccess();
            ProcessResult push = (await Tools.DockerAsync(dockerHost, config, null, Ct, "push", pushed)).EnsureSuccess();
            string digest = Regex.Match(push.StandardOutput, "digest: (sha256:[0-9a-f]{64})").Groups[1].Value;
            Assert.False(string.IsNullOrEmpty(digest), push.StandardOutput);
            using var client = new HttpClient();
            (_, string served, _) = await Tools.GetManifestAsync(client, baseUrl, "team/app", "2", Ct);
            Assert.Equal(digest, served);
            await Tools.DockerAsync(dockerHost, config, null, Ct, "rmi", "-f", source, pushed);
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", $"{host}/team/app@{digest}")).EnsureSuccess();
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, config, null, CancellationToken.None, "rmi", "-f", source, pushed, $"{host}/team/app");
        }
    }

    internal static async Task SkopeoAllRoundTripAsync(string busybox, TempDirectory work, string host, string baseUrl)
    {
        (string layout, Dbuild.Oci.Digest index) = TestImages.MakeMultiArchLayout(busybox, work.Combine("multi"));
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--dest-tls-verify=false", $"oci:{layout}:multi", $"docker://{host}/multi:1");
        using var client = new HttpClient();
        (_, string served, string mediaType) = await Tools.GetManifestAsync(client, baseUrl, "multi", "1", Ct);
        Assert.Equal(index.ToString(), served);
        Assert.Equal(Dbuild.Oci.MediaTypes.OciIndex, mediaType);
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--src-tls-verify=false", $"docker://{host}/multi:1", $"oci:{work.Combine("back")}:multi");
        foreach (string blob in Directory.EnumerateFiles(Path.Combine(layout, "blobs", "sha256")))
        {
            Assert.True(File.Exists(work.Combine("back", "blobs", "sha256", Path.GetFileName(blob))), $"blob {Path.GetFileName(blob)} missing after the round trip");
        }
    }

    internal static async Task PodmanRoundTripAsync(string busybox, TempDirectory work, string host, string baseUrl)
    {
        string state = work.Combine("podman");
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{host}/pbusybox:1");
        try
        {
            (await Tools.PodmanAsync(state, Ct, "pull", "--tls-verify=false", $"{host}/pbusybox:1")).EnsureSuccess();
            (await Tools.PodmanAsync(state, Ct, "push", "--tls-verify=false", $"{host}/pbusybox:1", $"docker://{host}/podman/busybox:2")).EnsureSuccess();
            using var client = new HttpClient();
            Assert.Equal("{\"name\":\"podman/busybox\",\"tags\":[\"2\"]}", await client.GetStringAsync($"{baseUrl}/v2/podman/busybox/tags/list", Ct));
            (await Tools.PodmanAsync(state, Ct, "rmi", "-a", "-f")).EnsureSuccess();
            (await Tools.PodmanAsync(state, Ct, "pull", "--tls-verify=false", $"{host}/podman/busybox:2")).EnsureSuccess();
        }
        finally
        {
            await Tools.PodmanAsync(state, CancellationToken.None, "rmi", "-a", "-f");
            await ProcessRunner.RunAsync("chmod", ["-R", "u+rwX", state], CancellationToken.None);
        }
    }
}
