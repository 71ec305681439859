using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// Three <c>dbuild registry serve</c> replicas on one Azurite container behind nginx (round robin): stateless replicas
/// serve real clients, and one upload continues across all three.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class AzureReplicaTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class Replicas(AzuriteServer azurite, RegistryServer[] servers, NginxProxy proxy) : IAsyncDisposable
    {
        public RegistryServer[] Servers => servers;
        public NginxProxy Proxy => proxy;

        public async ValueTask DisposeAsync()
        {
            await proxy.DisposeAsync();
            foreach (RegistryServer server in servers) { await server.DisposeAsync(); }
            await azurite.DisposeAsync();
        }
    }

    private static async Task<Replicas> StartAsync(TempDirectory work)
    {
        Prerequisites.RequireTool("nginx", "nginx-light");
        AzuriteServer azurite = await AzuriteServer.StartAsync(Ct);
        var servers = new List<RegistryServer>();
        try
        {
            for (int i = 0; i < 3; i++) { servers.Add(await AzureRegistryTests.StartReplicaAsync(azurite, work.Path, "shared", redirect: false, Ct)); }
            NginxProxy proxy = await NginxProxy.StartAsync(work.Combine("nginx"), servers.Select(s => s.Port), Ct);
            return new Replicas(azurite, [.. servers], proxy);
        }
        catch
        {
            foreach (RegistryServer server in servers) { await server.DisposeAsync(); }
            await azurite.DisposeAsync();
            throw;
        }
    }

    /// <summary>nginx's log names the replica of each request: every replica answered some.</summary>
    private static void AssertEveryReplicaServed(Replicas replicas)
    {
        string log = replicas.Proxy.AccessLog;
        foreach (RegistryServer server in replicas.Servers)
        {
            Assert.Contains($"127.0.0.1:{server.Port}", log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Docker_PushAndPull_ThroughNginx()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using Replicas replicas = await StartAsync(work);
        await AzureRegistryTests.DockerRoundTripAsync(dockerHost, busybox, work, replicas.Proxy.Host, replicas.Proxy.BaseUrl);
        AssertEveryReplicaServed(replicas);
    }

    [Fact]
    public async Task SkopeoCopyAllAndPodman_ThroughNginx()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        Prerequisites.RequireRoot("podman with its own storage root under a temp folder");
        using var work = new TempDirectory();
        await using Replicas replicas = await StartAsync(work);
        await AzureRegistryTests.SkopeoAllRoundTripAsync(busybox, work, replicas.Proxy.Host, replicas.Proxy.BaseUrl);
        await AzureRegistryTests.PodmanRoundTripAsync(busybox, work, replicas.Proxy.Host, replicas.Proxy.BaseUrl);
        AssertEveryReplicaServed(replicas);
    }

    [Fact]
    public async Task OneUpload_StartedOnA_ChunksOnBAndC_CompletedOnA_ServesTheBlobThroughNginx()
    {
        using var work = new TempDirectory();
        await using Replicas replicas = await StartAsync(work);
        (RegistryServer a, RegistryServer b, RegistryServer c) = (replicas.Servers[0], replicas.Servers[1], replicas.Servers[2]);
        byte[] first = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 17); // more than one staged block
        byte[] second = RandomNumberGenerator.GetBytes(1024 * 1024 + 3);
        byte[] last = RandomNumberGenerator.GetBytes(4099);
        byte[] all = [.. first, .. second, .. last];
        string digest = Dbuild.Oci.Digest.Compute(all).ToString();
        using var client = new HttpClient();

        using HttpResponseMessage started = await client.PostAsync($"{a.BaseUrl}/v2/moved/blobs/uploads/", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        string upload = started.Headers.Location!.OriginalString;

        await PatchAsync(client, $"{b.BaseUrl}{upload}", first, 0);
        await PatchAsync(client, $"{c.BaseUrl}{upload}", second, first.Length);
        using (HttpResponseMessage status = await client.GetAsync($"{a.BaseUrl}{upload}", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
            Assert.Equal($"0-{first.Length + second.Length - 1}", status.Headers.GetValues("Range").Single());
        }
        // A chunk at a stale offset is refused by any replica (the state's conditional write arbitrates).
        using (HttpResponseMessage stale = await SendPatchAsync(client, $"{b.BaseUrl}{upload}", last, first.Length))
        {
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, stale.StatusCode);
        }

        using var put = new HttpRequestMessage(HttpMethod.Put, $"{a.BaseUrl}{upload}{(upload.Contains('?', StringComparison.Ordinal) ? '&' : '?')}digest={digest}")
        {
            Content = new ByteArrayContent(last),
        };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage completed = await client.SendAsync(put, Ct);
        Assert.True(completed.StatusCode == HttpStatusCode.Created, await completed.Content.ReadAsStringAsync(Ct));

        using HttpResponseMessage served = await client.GetAsync($"{replicas.Proxy.BaseUrl}/v2/moved/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        await using Stream body = await served.Content.ReadAsStreamAsync(Ct);
        Assert.Equal(digest, $"sha256:{Convert.ToHexStringLower(await SHA256.HashDataAsync(body, Ct))}");
        foreach (RegistryServer replica in replicas.Servers)
        {
            using var head = new HttpRequestMessage(HttpMethod.Head, $"{replica.BaseUrl}/v2/moved/blobs/{digest}");
            using HttpResponseMessage stat = await client.SendAsync(head, Ct);
            Assert.Equal(HttpStatusCode.OK, stat.StatusCode);
            Assert.Equal(all.Length, stat.Content.Headers.ContentLength);
        }
    }

    private static async Task PatchAsync(HttpClient client, string url, byte[] chunk, long start)
    {
        using HttpResponseMessage response = await SendPatchAsync(client, url, chunk, start);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"PATCH {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        Assert.Equal($"0-{start + chunk.Length - 1}", response.Headers.GetValues("Range").Single());
    }

    private static async Task<HttpResponseMessage> SendPatchAsync(HttpClient client, string url, byte[] chunk, long start)
    {
        using var patch = new HttpRequestMessage(HttpMethod.Patch, url) { Content = new ByteArrayContent(chunk) };
        patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        patch.Content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + chunk.Length - 1}");
        return await client.SendAsync(patch, Ct);
    }
}
