using System.Net;
using System.Text.Json.Nodes;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// The pull-through cache with several upstreams by prefix (<c>proxy.upstreams</c>), and the writes a mirror refuses,
/// answered as Debian's registry:2 in proxy mode answers them.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryProxyUpstreamsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoUpstreams_ByPrefix_EachServesItsOwnRepositories()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        MultiArch image = ProxyTestImages.Make(busybox, work.Combine("multi"));
        await using DistributionRegistry hub = await DistributionRegistry.StartAsync(Ct);
        await using DistributionRegistry ghcr = await DistributionRegistry.StartAsync(Ct, basicAuth: ("robot", "ghcr-secret"));
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{hub.Host}/library/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--dest-tls-verify=false", "--dest-creds", "robot:ghcr-secret",
            $"oci:{image.Layout}:multi", $"docker://{ghcr.Host}/tools/multi:1");
        await using RegistryServer proxy = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("cache"), Ct, extra: $"""
            proxy:
              upstreams:
                - prefix: hub
                  remoteurl: http://{hub.Host}
                - prefix: ghcr
                  remoteurl: http://{ghcr.Host}
                  username: robot
                  password: ghcr-secret
                  ttl: 1h
            """);

        await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{proxy.Host}/hub/library/busybox:1", $"oci:{work.Combine("a")}:busybox");
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--src-tls-verify=false", $"docker://{proxy.Host}/ghcr/tools/multi:1", $"oci:{work.Combine("b")}:multi");
        Assert.Contains(image.Index.ToString(), await File.ReadAllTextAsync(work.Combine("b", "index.json"), Ct), StringComparison.Ordinal);
        Assert.True(ProxyTestImages.CountRequests(hub, "GET /v2/library/busybox/manifests/") > 0, "hub/… is library/busybox on the first upstream");
        Assert.True(ProxyTestImages.CountRequests(ghcr, $"GET /v2/tools/multi/blobs/{image.Arm64Layer} ") > 0, "ghcr/… is tools/multi on the second");
        Assert.Equal(0, ProxyTestImages.CountRequests(hub, "/v2/tools/multi/"));
        Assert.Equal(0, ProxyTestImages.CountRequests(ghcr, "/v2/library/busybox/"));

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        JsonNode catalog = JsonNode.Parse(await client.GetStringAsync($"{proxy.BaseUrl}/v2/_catalog", Ct))!;
        Assert.Equal(["ghcr/tools/multi", "hub/library/busybox"], catalog["repositories"]!.AsArray().Select(n => n!.ToString()));
        JsonNode tags = JsonNode.Parse(await client.GetStringAsync($"{proxy.BaseUrl}/v2/hub/library/busybox/tags/list", Ct))!;
        Assert.Equal("hub/library/busybox", tags["name"]!.ToString());
        Assert.Equal(["1"], tags["tags"]!.AsArray().Select(n => n!.ToString()));

        // A repository outside every prefix is an ordinary local one: pushes go in, and nothing is asked upstream.
        using HttpResponseMessage unknown = await client.GetAsync($"{proxy.BaseUrl}/v2/library/busybox/manifests/1", Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{proxy.Host}/local/busybox:1");
        using HttpResponseMessage refused = await client.PostAsync($"{proxy.BaseUrl}/v2/hub/library/busybox/blobs/uploads/", null, Ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, refused.StatusCode);
        Assert.DoesNotContain("ghcr-secret", proxy.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenAuthUpstream_ProxyPullsWithBearerTokensForItsAccount_AndBadCredentialsAre500()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using TokenServer tokens = await TokenServer.StartAsync(work, new Dictionary<string, string> { ["alice"] = "alice-secret" }, Ct);
        await using DistributionRegistry upstream = await DistributionRegistry.StartAsync(Ct, tokenAuth: tokens);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", "--dest-creds", "alice:alice-secret", $"oci:{busybox}:latest", $"docker://{upstream.Host}/alice/busybox:1");
        tokens.ClearRequests();
        await using RegistryServer proxy = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("cache"), Ct, extra: $"""
            proxy:
              upstreams:
                - {"{"}prefix: mirror, remoteurl: "http://{upstream.Host}", username: alice, password: alice-secret{"}"}
                - {"{"}prefix: wrong, remoteurl: "http://{upstream.Host}", username: alice, password: not-her-password{"}"}
            """);

        await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{proxy.Host}/mirror/alice/busybox:1", $"oci:{work.Combine("back")}:x");
        Assert.Contains(tokens.Requests, r => r.User == "alice" && r.Status == 200 && r.Granted.Contains("repository:alice/busybox:pull"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using HttpResponseMessage refused = await client.GetAsync($"{proxy.BaseUrl}/v2/wrong/alice/busybox/manifests/1", Ct);
        Assert.Equal(HttpStatusCode.InternalServerError, refused.StatusCode);
        Assert.Contains(tokens.Requests, r => r.Status == 401); // the token server refused the wrong password
        Assert.DoesNotContain("alice-secret", proxy.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("not-her-password", proxy.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushAndDelete_ToTheProxy_AreRefusedAsRegistry2RefusesThem()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        string dockerConfig = work.Combine("docker-config");
        Directory.CreateDirectory(dockerConfig);
        await using DistributionRegistry upstream = await DistributionRegistry.StartAsync(Ct);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{upstream.Host}/library/busybox:1");
        string proxySection = $"proxy:\n  remoteurl: http://{upstream.Host}\n";
        await using RegistryServer dbuild = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("dbuild"), Ct, extra: proxySection);
        int port = RegistryServer.FreePort();
        await using RegistryServer registry2 = await RegistryServer.StartRegistry2Async(
            RegistryServer.WriteConfig(work.Path, work.Combine("registry2"), port, extra: proxySection), port, work.Combine("registry2"), Ct);
        Digest manifest = ProxyTestImages.BusyboxManifest(busybox);
        Digest layer = ProxyTestImages.FirstLayer(busybox, manifest);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (RegistryServer server in new[] { dbuild, registry2 })
        {
            // Both have it now, so the refusals below are not "unknown" (registry:2 needs the OCI type in Accept).
            (_, string cached, _) = await Tools.GetManifestAsync(client, server.BaseUrl, "library/busybox", manifest.ToString(), Ct);
            Assert.Equal(manifest.ToString(), cached);
        }
        (HttpMethod Method, string Path, string? Body)[] writes =
        [
            (HttpMethod.Post, "/v2/library/busybox/blobs/uploads/", null),
            (HttpMethod.Post, "/v2/other/blobs/uploads/", null),
            (HttpMethod.Put, "/v2/library/busybox/manifests/2", "{\"schemaVersion\":2}"),
            (HttpMethod.Delete, $"/v2/library/busybox/manifests/{manifest}", null),
            (HttpMethod.Delete, $"/v2/library/busybox/blobs/{layer}", null),
        ];
        foreach ((HttpMethod method, string path, string? body) in writes)
        {
            (HttpStatusCode expectedStatus, string expectedCode) = await SendAsync(client, method, registry2.BaseUrl + path, body);
            (HttpStatusCode status, string code) = await SendAsync(client, method, dbuild.BaseUrl + path, body);
            Assert.True(expectedStatus == status && expectedCode == code, $"{method} {path}: registry:2 answers {(int)expectedStatus} {expectedCode}, dbuild {(int)status} {code}");
        }
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await SendAsync(client, HttpMethod.Post, dbuild.BaseUrl + writes[0].Path, null)).Status);

        // docker push to the mirror fails the same way.
        string source = $"{dbuild.Host}/library/busybox:1";
        string pushed = $"{dbuild.Host}/library/busybox:pushed";
        try
        {
            (await Tools.DockerAsync(dockerHost, dockerConfig, null, Ct, "pull", source)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, dockerConfig, null, Ct, "tag", source, pushed)).EnsureSuccess();
            ProcessResult push = await Tools.DockerAsync(dockerHost, dockerConfig, null, Ct, "push", pushed);
            Assert.NotEqual(0, push.ExitCode);
            Assert.Contains("unsupported", push.StandardError + push.StandardOutput, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, dockerConfig, null, CancellationToken.None, "rmi", "-f", source, pushed);
        }
    }

    private static async Task<(HttpStatusCode Status, string Code)> SendAsync(HttpClient client, HttpMethod method, string url, string? body)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(MediaTypes.OciManifest);
        }
        using HttpResponseMessage response = await client.SendAsync(request, Ct);
        string text = await response.Content.ReadAsStringAsync(Ct);
        string code = text.TrimStart().StartsWith('{') ? JsonNode.Parse(text)?["errors"]?[0]?["code"]?.ToString() ?? "" : "";
        return (response.StatusCode, code);
    }
}
