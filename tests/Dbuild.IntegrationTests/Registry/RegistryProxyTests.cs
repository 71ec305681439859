using System.Diagnostics;
using System.Net;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// <c>dbuild registry serve</c> as a pull-through cache of Debian's registry:2, pulled from by docker 20.10 and skopeo:
/// the cache fills on the first pull, serves with the upstream stopped, sees a moved tag after <c>proxy.ttl</c> (and not
/// before), and refuses an upstream blob whose bytes do not match its digest.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryProxyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DockerPull_ThroughProxyWithCredentials_FillsTheCacheThenWorksWithTheUpstreamStopped()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        string dockerConfig = work.Combine("docker-config");
        Directory.CreateDirectory(dockerConfig);
        MultiArch image = ProxyTestImages.Make(busybox, work.Combine("multi"));
        DistributionRegistry? upstream = await DistributionRegistry.StartAsync(Ct, basicAuth: ("mirror", "upstream-secret"));
        try
        {
            await Tools.SkopeoAsync(Ct, "copy", "--all", "--dest-tls-verify=false", "--dest-creds", "mirror:upstream-secret",
                $"oci:{image.Layout}:multi", $"docker://{upstream.Host}/team/app:1");
            await using RegistryServer proxy = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("cache"), Ct,
                extra: $"proxy:\n  remoteurl: http://{upstream.Host}\n  username: mirror\n  password: upstream-secret\n  ttl: 0s\n");
            string reference = $"{proxy.Host}/team/app:1";
            try
            {
                // First pull: the proxy fetches the index, the arm64 child and its blobs from upstream (and nothing of amd64).
                (await Tools.DockerAsync(dockerHost, dockerConfig, null, Ct, "pull", "--platform", "linux/arm64", reference)).EnsureSuccess();
                string imageId = (await Tools.DockerAsync(dockerHost, dockerConfig, null, Ct, "image", "inspect", "--format", "{{.Id}}", reference)).EnsureSuccess().StandardOutput.Trim();
                Assert.Equal(1, ProxyTestImages.CountRequests(upstream, $"GET /v2/team/app/manifests/{image.Index} "));
                Assert.Equal(1, ProxyTestImages.CountRequests(upstream, $"GET /v2/team/app/manifests/{image.Arm64} "));
                Assert.Equal(1, ProxyTestImages.CountRequests(upstream, $"GET /v2/team/app/blobs/{image.Arm64Layer} "));
                Assert.Equal(0, ProxyTestImages.CountRequests(upstream, $"/v2/team/app/manifests/{image.Amd64} "));
                Assert.True(File.Exists(ProxyTestImages.BlobData(proxy.StorageRoot, image.Arm64Layer)), "the layer is cached");
                Assert.True(File.Exists(ProxyTestImages.BlobData(proxy.StorageRoot, image.Index)), "the index is cached");

                // The same pull with the upstream gone is served from the cache (ttl 0: the proxy tried upstream first).
                (await Tools.DockerAsync(dockerHost, dockerConfig, null, Ct, "rmi", "-f", reference)).EnsureSuccess();
                await upstream.DisposeAsync();
                upstream = null;
                (await Tools.DockerAsync(dockerHost, dockerConfig, null, Ct, "pull", "--platform", "linux/arm64", reference)).EnsureSuccess();
                string again = (await Tools.DockerAsync(dockerHost, dockerConfig, null, Ct, "image", "inspect", "--format", "{{.Id}}", reference)).EnsureSuccess().StandardOutput.Trim();
                Assert.Equal(imageId, again);
                Assert.Contains("serving the cached team/app:1", proxy.Output, StringComparison.Ordinal);

                // skopeo too, by digest of the cached child; what upstream never sent (amd64) is an error, not a hang.
                await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{proxy.Host}/team/app@{image.Arm64}", $"oci:{work.Combine("back")}:arm64");
                Assert.True(File.Exists(work.Combine("back", "blobs", "sha256", image.Arm64Layer.Encoded)));
                using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                using HttpResponseMessage missing = await client.GetAsync($"{proxy.BaseUrl}/v2/team/app/manifests/{image.Amd64}", Ct);
                Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
                Assert.Contains("\"UNKNOWN\"", await missing.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            }
            finally
            {
                await Tools.DockerAsync(dockerHost, dockerConfig, null, CancellationToken.None, "rmi", "-f", reference);
            }
            Assert.DoesNotContain("upstream-secret", proxy.Output, StringComparison.Ordinal);
        }
        finally
        {
            if (upstream is not null) { await upstream.DisposeAsync(); }
        }
    }

    [Fact]
    public async Task TagMovedUpstream_IsSeenAfterTtl_AndNotBefore()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        MultiArch image = ProxyTestImages.Make(busybox, work.Combine("multi"));
        await using DistributionRegistry upstream = await DistributionRegistry.StartAsync(Ct);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{upstream.Host}/app:1");
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--dest-tls-verify=false", $"oci:{image.Layout}:multi", $"docker://{upstream.Host}/app:next");
        TimeSpan ttl = TimeSpan.FromSeconds(8);
        await using RegistryServer proxy = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("cache"), Ct,
            extra: $"proxy:\n  remoteurl: http://{upstream.Host}\n  ttl: {ttl.TotalSeconds}s\n");
        Digest before = ProxyTestImages.BusyboxManifest(busybox);

        Assert.Equal(before, await DigestThroughProxyAsync(proxy, "app:1"));
        var checkedAt = Stopwatch.StartNew();
        int heads = ProxyTestImages.CountRequests(upstream, "HEAD /v2/app/manifests/1 ");
        Assert.Equal(1, heads);

        // Move the tag upstream: PUT the index's bytes under tag 1 (a registry client's tag move, in one request).
        using var http = new HttpClient();
        (byte[] indexBytes, _, string indexType) = await Tools.GetManifestAsync(http, $"http://{upstream.Host}", "app", "next", Ct);
        using (var put = new ByteArrayContent(indexBytes))
        {
            put.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(indexType);
            (await http.PutAsync($"http://{upstream.Host}/v2/app/manifests/1", put, Ct)).EnsureSuccessStatusCode();
        }

        Assert.Equal(before, await DigestThroughProxyAsync(proxy, "app:1"));
        Assert.True(checkedAt.Elapsed < ttl, $"the second read took until {checkedAt.Elapsed}, past the ttl; the machine is too slow for this check");
        Assert.Equal(heads, ProxyTestImages.CountRequests(upstream, "HEAD /v2/app/manifests/1 "));

        TimeSpan wait = ttl - checkedAt.Elapsed + TimeSpan.FromMilliseconds(500);
        if (wait > TimeSpan.Zero) { await Task.Delay(wait, Ct); }
        Assert.Equal(image.Index, await DigestThroughProxyAsync(proxy, "app:1"));
        Assert.Equal(heads + 1, ProxyTestImages.CountRequests(upstream, "HEAD /v2/app/manifests/1 "));

        // The new index's children and blobs come on demand: a copy of every platform works through the proxy.
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--src-tls-verify=false", $"docker://{proxy.Host}/app:1", $"oci:{work.Combine("back")}:all");
        Assert.True(File.Exists(ProxyTestImages.BlobData(proxy.StorageRoot, image.Arm64Layer)));
        Assert.Contains(image.Index.ToString(), await File.ReadAllTextAsync(work.Combine("back", "index.json"), Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CorruptedUpstreamBlob_IsRefusedAndNotStored()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using DistributionRegistry upstream = await DistributionRegistry.StartAsync(Ct);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{upstream.Host}/broken/busybox:1");
        Digest layer = ProxyTestImages.FirstLayer(busybox, ProxyTestImages.BusyboxManifest(busybox));
        // Same size, other bytes: registry:2's filesystem driver serves what is on disk without checking it.
        string upstreamData = ProxyTestImages.BlobData(upstream.StorageRoot, layer);
        await using (FileStream file = File.Open(upstreamData, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            int original = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(original ^ 0xFF));
        }
        await using RegistryServer proxy = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("cache"), Ct,
            extra: $"proxy:\n  remoteurl: http://{upstream.Host}\n");

        // Not cached yet: HEAD is answered from upstream's HEAD (nothing fetched); a ranged GET fetches, verifies and stores
        // the whole blob first, then answers the range.
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using (var head = new HttpRequestMessage(HttpMethod.Head, $"{proxy.BaseUrl}/v2/broken/busybox/blobs/{layer}"))
        using (HttpResponseMessage headed = await client.SendAsync(head, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, headed.StatusCode);
            Assert.Equal(new FileInfo(upstreamData).Length, headed.Content.Headers.ContentLength);
        }
        Digest config = Digest.Parse(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(busybox, "blobs", "sha256",
            ProxyTestImages.BusyboxManifest(busybox).Encoded)))!["config"]!["digest"]!.ToString());
        using (var range = new HttpRequestMessage(HttpMethod.Get, $"{proxy.BaseUrl}/v2/broken/busybox/blobs/{config}"))
        {
            range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(2, 11);
            using HttpResponseMessage partial = await client.SendAsync(range, Ct);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            byte[] original = await File.ReadAllBytesAsync(Path.Combine(busybox, "blobs", "sha256", config.Encoded), Ct);
            Assert.Equal(original[2..12], await partial.Content.ReadAsByteArrayAsync(Ct));
            Assert.True(File.Exists(ProxyTestImages.BlobData(proxy.StorageRoot, config)), "the ranged GET stored the whole blob");
        }
        using (var range = new HttpRequestMessage(HttpMethod.Get, $"{proxy.BaseUrl}/v2/broken/busybox/blobs/{layer}"))
        {
            range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 99);
            using HttpResponseMessage refusedRange = await client.SendAsync(range, Ct);
            Assert.Equal(HttpStatusCode.InternalServerError, refusedRange.StatusCode); // registry:2's 500 UNKNOWN for an upstream failure
        }

        string skopeo = Prerequisites.RequireTool("skopeo", "skopeo");
        ProcessResult copy = await ProcessRunner.RunAsync(skopeo, ["--insecure-policy", "copy", "--src-tls-verify=false",
            $"docker://{proxy.Host}/broken/busybox:1", $"oci:{work.Combine("back")}:x"], Ct, timeout: TimeSpan.FromMinutes(2));
        Assert.NotEqual(0, copy.ExitCode);

        // A plain client sees the body cut off before its end, never the whole wrong blob.
        int? received = null;
        try
        {
            using HttpResponseMessage response = await client.GetAsync($"{proxy.BaseUrl}/v2/broken/busybox/blobs/{layer}", Ct);
            response.EnsureSuccessStatusCode();
            received = (await response.Content.ReadAsByteArrayAsync(Ct)).Length;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException) { /* refused or cut off: what must happen */ }
        Assert.Null(received);

        Assert.False(File.Exists(ProxyTestImages.BlobData(proxy.StorageRoot, layer)), "the corrupted blob must not be stored");
        string uploads = Path.Combine(proxy.StorageRoot, "docker", "registry", "v2", "repositories", "broken", "busybox", "_uploads");
        Assert.True(!Directory.Exists(uploads) || !Directory.EnumerateFileSystemEntries(uploads).Any(), "no upload is left behind");
        Assert.False(File.Exists(Path.Combine(proxy.StorageRoot, "docker", "registry", "v2", "repositories", "broken", "busybox", "_layers", "sha256", layer.Encoded, "link")));
        Assert.Contains("Digest mismatch", proxy.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientLeavingMidBlob_TheFetchFinishes_AndOnlyTheWholeVerifiedBlobIsStored()
    {
        using var work = new TempDirectory();
        await using DistributionRegistry upstream = await DistributionRegistry.StartAsync(Ct);
        const long size = 48L * 1024 * 1024;
        byte[] block = System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024 * 1024 + 7);
        Digest digest;
        using (var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256))
        {
            await using var content = new RepeatingStream(block, size);
            byte[] buffer = new byte[1024 * 1024];
            int read;
            while ((read = await content.ReadAsync(buffer, Ct)) > 0) { hash.AppendData(buffer, 0, read); }
            digest = Digest.FromSha256(hash.GetHashAndReset());
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
        using (HttpResponseMessage start = await http.PostAsync($"http://{upstream.Host}/v2/big/blob/blobs/uploads/", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
            string location = start.Headers.Location!.ToString();
            var target = new Uri(new Uri($"http://{upstream.Host}"), location + (location.Contains('?', StringComparison.Ordinal) ? "&" : "?") + $"digest={digest}");
            using var body = new StreamContent(new RepeatingStream(block, size));
            body.Headers.ContentLength = size;
            using HttpResponseMessage put = await http.PutAsync(target, body, Ct);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        await using RegistryServer proxy = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("cache"), Ct,
            extra: $"proxy:\n  remoteurl: http://{upstream.Host}\n");

        // Read the first bytes, then hang up: the proxy stops sending but finishes storing.
        using (HttpResponseMessage response = await http.GetAsync($"{proxy.BaseUrl}/v2/big/blob/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(size, response.Content.Headers.ContentLength);
            await using Stream stream = await response.Content.ReadAsStreamAsync(Ct);
            byte[] first = new byte[64 * 1024];
            await stream.ReadExactlyAsync(first, Ct);
        }
        string cached = ProxyTestImages.BlobData(proxy.StorageRoot, digest);
        for (int i = 0; i < 300 && !proxy.Output.Contains($"cached blob {digest}", StringComparison.Ordinal); i++) { await Task.Delay(200, Ct); }
        Assert.Contains($"cached blob {digest} ({size} bytes) of big/blob from http://{upstream.Host} (client left before the end: True)", proxy.Output, StringComparison.Ordinal);
        Assert.Equal(size, new FileInfo(cached).Length);
        await using (FileStream file = File.OpenRead(cached))
        {
            Assert.Equal(digest, Digest.FromSha256(await System.Security.Cryptography.SHA256.HashDataAsync(file, Ct)));
        }
        string uploads = Path.Combine(proxy.StorageRoot, "docker", "registry", "v2", "repositories", "big", "blob", "_uploads");
        Assert.True(!Directory.Exists(uploads) || !Directory.EnumerateFileSystemEntries(uploads).Any(), "no upload is left behind");

        // Now cached: served whole, and ranges work.
        using var range = new HttpRequestMessage(HttpMethod.Get, $"{proxy.BaseUrl}/v2/big/blob/blobs/{digest}");
        range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(size - 10, null);
        using HttpResponseMessage partial = await http.SendAsync(range, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(10, (await partial.Content.ReadAsByteArrayAsync(Ct)).Length);
    }

    private static async Task<Digest> DigestThroughProxyAsync(RegistryServer proxy, string reference)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string[] parts = reference.Split(':');
        (_, string digest, _) = await Tools.GetManifestAsync(client, proxy.BaseUrl, parts[0], parts[1], Ct);
        return Digest.Parse(digest);
    }
}
