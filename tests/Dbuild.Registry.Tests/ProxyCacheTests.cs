using System.Net;
using System.Net.Sockets;
using System.Text;
using Dbuild.Oci;
using Dbuild.Registry.Proxy;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Dbuild.Registry.Tests;

/// <summary>
/// The pull-through cache in process, with an upstream that refuses connections: what is served from the cache, when
/// a tag's <c>ttl</c> sends the request upstream (clock faked), and which writes a mirror refuses. The real upstream
/// (registry:2) is in the integration tests.
/// </summary>
public sealed class ProxyCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<RegistryFixture> StartMirrorAsync(TimeSpan ttl) => RegistryFixture.StartAsync(options =>
        options.Proxy.Upstreams.Add(new ProxyUpstream { Prefix = "hub", RemoteUrl = new Uri($"http://127.0.0.1:{ClosedPort()}"), Ttl = ttl }));

    /// <summary>A loopback port nothing listens on: connections are refused at once.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<Digest> SeedTagAsync(RegistryFixture registry, string name, string tag)
    {
        byte[] manifest = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":[]}}");
        Digest digest = Digest.Compute(manifest);
        await registry.Services.GetRequiredService<RegistryStorage>().PutManifestAsync(name, digest, manifest, tag, Ct);
        return digest;
    }

    private static int UpstreamFailures(RegistryFixture registry) =>
        registry.Logs.GetSnapshot().Count(r => r.Id.Name is "ProxyServingCachedTag" or "ProxyUpstreamFailed");

    [Fact]
    public async Task CachedTag_FreshWithinTtl_IsServedWithoutAskingUpstream_AndAfterTtlFallsBackWhenUpstreamIsDown()
    {
        await using RegistryFixture registry = await StartMirrorAsync(TimeSpan.FromHours(1));
        Digest digest = await SeedTagAsync(registry, "hub/library/app", "1");
        var checks = new TagCheckRecord(registry.Services.GetRequiredService<RegistryStorage>().Driver, registry.Time);
        await checks.RecordAsync("hub/library/app", "1", digest, Ct);

        registry.Time.Advance(TimeSpan.FromMinutes(59));
        using (HttpResponseMessage fresh = await registry.Client.GetAsync("/v2/hub/library/app/manifests/1", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
            Assert.Equal(digest.ToString(), fresh.Headers.GetValues("Docker-Content-Digest").Single());
        }
        Assert.Equal(0, UpstreamFailures(registry));

        registry.Time.Advance(TimeSpan.FromMinutes(2));
        using (HttpResponseMessage stale = await registry.Client.GetAsync("/v2/hub/library/app/manifests/1", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
            Assert.Equal(digest.ToString(), stale.Headers.GetValues("Docker-Content-Digest").Single());
        }
        Assert.Contains(registry.Logs.GetSnapshot(), r => r.Id.Name == "ProxyServingCachedTag" && r.Message.Contains("hub/library/app:1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Uncached_WithUpstreamDown_Is500Unknown_NotAHang()
    {
        await using RegistryFixture registry = await StartMirrorAsync(TimeSpan.FromHours(1));
        using HttpResponseMessage tag = await registry.Client.GetAsync("/v2/hub/library/app/manifests/1", Ct);
        await ErrorBody.AssertAsync(tag, HttpStatusCode.InternalServerError, "UNKNOWN");
        using HttpResponseMessage blob = await registry.Client.GetAsync($"/v2/hub/library/app/blobs/{Digest.Compute("x"u8)}", Ct);
        await ErrorBody.AssertAsync(blob, HttpStatusCode.InternalServerError, "UNKNOWN");
        Assert.Equal(2, UpstreamFailures(registry));
    }

    [Fact]
    public async Task Writes_ToAMirroredRepository_Are405Unsupported_LocalRepositoriesStayWritable()
    {
        await using RegistryFixture registry = await StartMirrorAsync(TimeSpan.FromHours(1));
        Digest digest = await SeedTagAsync(registry, "hub/library/app", "1");
        using (HttpResponseMessage upload = await registry.Client.PostAsync("/v2/hub/library/app/blobs/uploads/", null, Ct))
        {
            await ErrorBody.AssertAsync(upload, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        }
        using (HttpResponseMessage put = await registry.PutManifestAsync("hub/library/app", "2", "{\"schemaVersion\":2}"))
        {
            await ErrorBody.AssertAsync(put, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        }
        using (HttpResponseMessage delete = await registry.Client.DeleteAsync($"/v2/hub/library/app/manifests/{digest}", Ct))
        {
            await ErrorBody.AssertAsync(delete, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        }
        string manifest = await registry.PushImageBlobsAsync("team/app");
        using HttpResponseMessage local = await registry.PutManifestAsync("team/app", "1", manifest);
        Assert.Equal(HttpStatusCode.Created, local.StatusCode);
    }
}
