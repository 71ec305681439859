using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Registry.Gc;
using Dbuild.Registry.Hosting;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Dbuild.Registry.Tests;

/// <summary>Online GC's mark and sweep rules, on the in-process registry with a fake clock (grace 1h).</summary>
public sealed class GarbageCollectorTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<RegistryFixture> StartAsync(bool deleteUntagged = false) => RegistryFixture.StartAsync(o =>
    {
        o.GcEnabled = true;
        o.GcGrace = Grace;
        o.GcInterval = TimeSpan.FromDays(3650); // passes run only when a test asks
        o.GcDeleteUntagged = deleteUntagged;
    });

    private static async Task<GcSummary> CollectAsync(RegistryFixture registry, bool dryRun = false) =>
        await registry.Services.GetRequiredService<GcService>().RunOnceAsync(dryRun, Ct) ?? throw new InvalidOperationException("the GC pass failed");

    /// <summary>Pushes a config and a layer, then the manifest under <paramref name="reference"/>; returns its digest and blobs.</summary>
    private static async Task<Image> PushImageAsync(RegistryFixture registry, string name, string? reference, string? subject = null)
    {
        string json = await registry.PushImageBlobsAsync(name, subject);
        Digest digest = Digest.Compute(Encoding.UTF8.GetBytes(json));
        using HttpResponseMessage put = await registry.PutManifestAsync(name, reference ?? digest.ToString(), json);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using JsonDocument document = JsonDocument.Parse(json);
        Digest config = Digest.Parse(document.RootElement.GetProperty("config").GetProperty("digest").GetString()!);
        Digest layer = Digest.Parse(document.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!);
        return new Image(digest, json, config, layer);
    }

    private static string DataPath(RegistryFixture registry, Digest digest) =>
        Path.Combine(registry.V2, "blobs", "sha256", digest.Encoded[..2], digest.Encoded, "data");

    private static async Task<HttpStatusCode> HeadAsync(RegistryFixture registry, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, path);
        using HttpResponseMessage response = await registry.Client.SendAsync(request, Ct);
        return response.StatusCode;
    }

    private static async Task AssertImageIntactAsync(RegistryFixture registry, string name, Image image)
    {
        Assert.Equal(HttpStatusCode.OK, await HeadAsync(registry, $"/v2/{name}/manifests/{image.Digest}"));
        Assert.Equal(HttpStatusCode.OK, await HeadAsync(registry, $"/v2/{name}/blobs/{image.Config}"));
        Assert.Equal(HttpStatusCode.OK, await HeadAsync(registry, $"/v2/{name}/blobs/{image.Layer}"));
    }

    [Fact]
    public async Task Collect_TaggedImage_KeepsEverything()
    {
        await using RegistryFixture registry = await StartAsync(deleteUntagged: true);
        Image image = await PushImageAsync(registry, "app", "v1");
        registry.Time.Advance(Grace * 3);
        GcSummary summary = await CollectAsync(registry);
        Assert.Equal((0, 0, 0), (summary.BlobsSwept, summary.ManifestsSwept, summary.LinksSwept));
        Assert.Equal(3, summary.Marked); // manifest, config, layer
        await AssertImageIntactAsync(registry, "app", image);
    }

    [Fact]
    public async Task Collect_UntaggedKeep_KeepsEveryRevision()
    {
        await using RegistryFixture registry = await StartAsync(deleteUntagged: false);
        Image image = await PushImageAsync(registry, "app", reference: null);
        registry.Time.Advance(Grace * 3);
        GcSummary summary = await CollectAsync(registry);
        Assert.Equal(0, summary.BlobsSwept + summary.ManifestsSwept);
        await AssertImageIntactAsync(registry, "app", image);
    }

    [Fact]
    public async Task Collect_UntaggedDelete_RemovesAnOldUntaggedRevisionAndItsBlobs()
    {
        await using RegistryFixture registry = await StartAsync(deleteUntagged: true);
        Image untagged = await PushImageAsync(registry, "app", reference: null);
        Image tagged = await PushImageAsync(registry, "app", "v1");
        registry.Time.Advance(Grace * 2);
        GcSummary summary = await CollectAsync(registry);
        Assert.Equal(1, summary.ManifestsSwept);
        Assert.Equal(2, summary.BlobsSwept); // its manifest bytes and layer (the config is the tagged image's too)
        Assert.Equal(1, summary.LinksSwept); // the repository's link to that layer
        Assert.Equal(HttpStatusCode.NotFound, await HeadAsync(registry, $"/v2/app/manifests/{untagged.Digest}"));
        Assert.False(File.Exists(DataPath(registry, untagged.Layer)));
        Assert.False(File.Exists(DataPath(registry, untagged.Digest)));
        await AssertImageIntactAsync(registry, "app", tagged);
    }

    [Fact]
    public async Task Collect_UntaggedDelete_YoungRevisionStays()
    {
        await using RegistryFixture registry = await StartAsync(deleteUntagged: true);
        Image untagged = await PushImageAsync(registry, "app", reference: null);
        registry.Time.Advance(Grace / 2);
        GcSummary summary = await CollectAsync(registry);
        Assert.Equal(0, summary.ManifestsSwept + summary.BlobsSwept);
        await AssertImageIntactAsync(registry, "app", untagged);
    }

    [Fact]
    public async Task Collect_UntaggedDelete_KeepsTheChildrenOfATaggedIndex()
    {
        await using RegistryFixture registry = await StartAsync(deleteUntagged: true);
        Image amd64 = await PushImageAsync(registry, "multi", reference: null);
        Image arm64 = await PushImageAsync(registry, "multi", reference: null);
        string index = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":["
            + RegistryFixture.DescriptorJson(MediaTypes.OciManifest, amd64.Digest, Encoding.UTF8.GetByteCount(amd64.Json)) + ","
            + RegistryFixture.DescriptorJson(MediaTypes.OciManifest, arm64.Digest, Encoding.UTF8.GetByteCount(arm64.Json)) + "]}";
        using HttpResponseMessage put = await registry.PutManifestAsync("multi", "latest", index, MediaTypes.OciIndex);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        registry.Time.Advance(Grace * 2);
        GcSummary summary = await CollectAsync(registry);
        Assert.Equal(0, summary.ManifestsSwept + summary.BlobsSwept);
        await AssertImageIntactAsync(registry, "multi", amd64);
        await AssertImageIntactAsync(registry, "multi", arm64);
    }

    [Fact]
    public async Task Collect_UntaggedDelete_KeepsReferrersOfAKeptManifestOnly()
    {
        await using RegistryFixture registry = await StartAsync(deleteUntagged: true);
        Image subject = await PushImageAsync(registry, "app", "v1");
        string subjectJson = RegistryFixture.DescriptorJson(MediaTypes.OciManifest, subject.Digest, Encoding.UTF8.GetByteCount(subject.Json));
        Image attestation = await PushImageAsync(registry, "app", reference: null, subject: subjectJson);
        Image gone = await PushImageAsync(registry, "app", "v2");
        Image goneAttestation = await PushImageAsync(registry, "app", reference: null,
            subject: RegistryFixture.DescriptorJson(MediaTypes.OciManifest, gone.Digest, Encoding.UTF8.GetByteCount(gone.Json)));
        using (HttpResponseMessage delete = await registry.Client.DeleteAsync($"/v2/app/manifests/{gone.Digest}", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }
        registry.Time.Advance(Grace * 2);
        GcSummary summary = await CollectAsync(registry);
        Assert.Equal(1, summary.ManifestsSwept); // the attestation of the deleted manifest
        await AssertImageIntactAsync(registry, "app", attestation);
        Assert.Equal(HttpStatusCode.NotFound, await HeadAsync(registry, $"/v2/app/manifests/{goneAttestation.Digest}"));
        string referrers = await registry.Client.GetStringAsync($"/v2/app/referrers/{subject.Digest}", Ct);
        Assert.Contains(attestation.Digest.ToString(), referrers, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Collect_OrphanBlob_SweptOnlyAfterTheGracePeriod()
    {
        await using RegistryFixture registry = await StartAsync();
        Digest orphan = await registry.PushBlobAsync("app", RandomNumberGenerator.GetBytes(100));
        registry.Time.Advance(Grace - TimeSpan.FromMinutes(1));
        Assert.Equal(0, (await CollectAsync(registry)).BlobsSwept);
        Assert.True(File.Exists(DataPath(registry, orphan)));
        registry.Time.Advance(TimeSpan.FromMinutes(2));
        GcSummary summary = await CollectAsync(registry);
        Assert.Equal((1, 100L, 1), (summary.BlobsSwept, summary.BytesFreed, summary.LinksSwept));
        Assert.False(File.Exists(DataPath(registry, orphan)));
        Assert.False(Directory.Exists(Path.Combine(registry.V2, "repositories", "app", "_layers", "sha256", orphan.Encoded)));
        Assert.Equal(HttpStatusCode.NotFound, await HeadAsync(registry, $"/v2/app/blobs/{orphan}"));
        Assert.False(File.Exists(Path.Combine(registry.StorageRoot, BlobMarkers.MarkerPath(orphan)))); // the condemnation is released
    }

    [Fact]
    public async Task Collect_BlobHeadedRecently_IsNotSwept()
    {
        await using RegistryFixture registry = await StartAsync();
        Digest blob = await registry.PushBlobAsync("app", RandomNumberGenerator.GetBytes(100));
        registry.Time.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal(HttpStatusCode.OK, await HeadAsync(registry, $"/v2/app/blobs/{blob}")); // a client skips the upload
        registry.Time.Advance(TimeSpan.FromMinutes(20)); // 70 minutes after the upload, 20 after the HEAD
        Assert.Equal(0, (await CollectAsync(registry)).BlobsSwept);
        registry.Time.Advance(Grace);
        Assert.Equal(1, (await CollectAsync(registry)).BlobsSwept);
    }

    [Fact]
    public async Task Collect_StaleUpload_Removed_ActiveUploadStays()
    {
        await using RegistryFixture registry = await StartAsync();
        using HttpResponseMessage old = await registry.Client.PostAsync("/v2/app/blobs/uploads/", null, Ct);
        registry.Time.Advance(Grace + TimeSpan.FromMinutes(1));
        using HttpResponseMessage recent = await registry.Client.PostAsync("/v2/app/blobs/uploads/", null, Ct);
        Assert.Equal(1, (await CollectAsync(registry)).UploadsSwept);
        Assert.Equal(HttpStatusCode.NotFound, await HeadAsync(registry, old.Headers.Location!.ToString()));
        Assert.Equal(HttpStatusCode.NoContent, await HeadAsync(registry, recent.Headers.Location!.ToString()));
    }

    [Fact]
    public async Task Collect_DryRun_DeletesNothing()
    {
        await using RegistryFixture registry = await StartAsync(deleteUntagged: true);
        Image untagged = await PushImageAsync(registry, "app", reference: null);
        Digest orphan = await registry.PushBlobAsync("app", RandomNumberGenerator.GetBytes(10));
        registry.Time.Advance(Grace * 2);
        GcSummary summary = await CollectAsync(registry, dryRun: true);
        Assert.Equal((1, 4, true), (summary.ManifestsSwept, summary.BlobsSwept, summary.DryRun)); // manifest bytes, config, layer, orphan
        await AssertImageIntactAsync(registry, "app", untagged);
        Assert.Equal(HttpStatusCode.OK, await HeadAsync(registry, $"/v2/app/blobs/{orphan}"));
        BlobMarkers markers = registry.Services.GetRequiredService<RegistryStorage>().Markers;
        Assert.False((await markers.ReadAsync(orphan, Ct)).Condemned);
    }

    [Fact]
    public async Task PutManifest_BlobCondemnedAfterTheCheck_RefusedAndRolledBack()
    {
        await using RegistryFixture registry = await StartAsync();
        string json = await registry.PushImageBlobsAsync("app");
        using JsonDocument document = JsonDocument.Parse(json);
        Digest layer = Digest.Parse(document.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!);
        BlobMarkers markers = registry.Services.GetRequiredService<RegistryStorage>().Markers;
        Assert.NotNull(await markers.CondemnAsync(layer, await markers.ReadAsync(layer, Ct), Ct)); // a GC pass is deleting it
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", json);
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
        Digest digest = Digest.Compute(Encoding.UTF8.GetBytes(json));
        Assert.False(Directory.Exists(Path.Combine(registry.V2, "repositories", "app", "_manifests", "revisions", "sha256", digest.Encoded)));
        Assert.False(Directory.Exists(Path.Combine(registry.V2, "repositories", "app", "_manifests", "tags", "v1")));
        Assert.Equal(HttpStatusCode.NotFound, await HeadAsync(registry, $"/v2/app/blobs/{layer}")); // clients re-upload it
    }

    [Fact]
    public async Task Markers_VouchAndCondemn_NeverBothWin()
    {
        await using RegistryFixture registry = await StartAsync();
        Digest blob = await registry.PushBlobAsync("app", [1, 2, 3]);
        BlobMarkers markers = registry.Services.GetRequiredService<RegistryStorage>().Markers;
        BlobMarker seen = await markers.ReadAsync(blob, Ct);
        registry.Time.Advance(Grace); // older than grace/4: the next vouch rewrites the marker
        Assert.True(await markers.VouchAsync(blob, Ct));
        Assert.Null(await markers.CondemnAsync(blob, seen, Ct)); // the GC read it before the vouch: its condemnation fails
        Assert.NotNull(await markers.CondemnAsync(blob, await markers.ReadAsync(blob, Ct), Ct));
        Assert.False(await markers.VouchAsync(blob, Ct));
    }

    [Fact]
    public async Task Offline_PrintsRegistry2Lines_AndIgnoresMarkers()
    {
        await using RegistryFixture registry = await StartAsync();
        Image image = await PushImageAsync(registry, "app", "v1");
        Digest orphan = await registry.PushBlobAsync("app", [9, 9]);
        using var output = new StringWriter();
        GcSummary summary = await OfflineGarbageCollector.RunAsync(new FileSystemDriver(registry.StorageRoot), dryRun: false, deleteUntagged: false, output, Ct);
        string text = output.ToString();
        Assert.Contains($"app: marking manifest {image.Digest} ", text, StringComparison.Ordinal);
        Assert.Contains($"app: marking blob {image.Layer}", text, StringComparison.Ordinal);
        Assert.Contains($"blob eligible for deletion: {orphan}", text, StringComparison.Ordinal);
        Assert.Contains("3 blobs marked, 1 blobs and 0 manifests eligible for deletion", text, StringComparison.Ordinal);
        Assert.Equal(1, summary.BlobsSwept);
        Assert.False(File.Exists(DataPath(registry, orphan)));
    }

    private sealed record Image(Digest Digest, string Json, Digest Config, Digest Layer);
}
