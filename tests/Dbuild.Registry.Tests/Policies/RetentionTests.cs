using System.Net;
using System.Text;
using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Registry.Gc;
using Dbuild.Registry.Hosting;
using Dbuild.Registry.Observability;
using Dbuild.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dbuild.Registry.Tests.Policies;

/// <summary>
/// <c>policies.retention</c> applied by an online GC pass (fake clock, grace 1h, <c>untagged: keep</c>): tags no
/// condition keeps are removed, the sweep frees what only they held, and kept or immutable tags stay whole.
/// </summary>
public sealed class RetentionTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<RegistryFixture> StartAsync(string policies) => RegistryFixture.StartAsync(PolicyYaml.Apply(policies, o =>
    {
        o.GcEnabled = true;
        o.GcGrace = Grace;
        o.GcInterval = TimeSpan.FromDays(3650); // passes run only when a test asks
    }));

    private static async Task<GcSummary> CollectAsync(RegistryFixture registry, bool dryRun = false) =>
        await registry.Services.GetRequiredService<GcService>().RunOnceAsync(dryRun, Ct) ?? throw new InvalidOperationException("the GC pass failed");

    /// <summary>Pushes an image under <paramref name="tag"/> and dates its tag link <paramref name="age"/> before the fake now.</summary>
    private static async Task<(Digest Manifest, Digest Layer)> PushAsync(RegistryFixture registry, string name, string tag, TimeSpan age)
    {
        string json = await registry.PushImageBlobsAsync(name);
        using HttpResponseMessage put = await registry.PutManifestAsync(name, tag, json);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        string link = Path.Combine(registry.V2, "repositories", name, "_manifests", "tags", tag, "current", "link");
        File.SetLastWriteTimeUtc(link, (registry.Time.GetUtcNow() - age).UtcDateTime);
        using JsonDocument document = JsonDocument.Parse(json);
        return (Digest.Compute(Encoding.UTF8.GetBytes(json)), Digest.Parse(document.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!));
    }

    private static string DataPath(RegistryFixture registry, Digest digest) =>
        Path.Combine(registry.V2, "blobs", "sha256", digest.Encoded[..2], digest.Encoded, "data");

    private static async Task<string> TagsAsync(RegistryFixture registry, string name)
    {
        using HttpResponseMessage response = await registry.Client.GetAsync($"/v2/{name}/tags/list", Ct);
        return await response.Content.ReadAsStringAsync(Ct);
    }

    [Fact]
    public async Task GcPass_RemovesTagsBeyondKeepLast_ThatNoPatternOrAgeKeeps_AndFreesTheirBlobs()
    {
        await using RegistryFixture registry = await StartAsync("""
            policies:
              retention:
                - {repository: "ci/**", keeplast: 2, keep: ["release-*"], maxage: 10d}
              immutable:
                - {repository: ci/app, tags: pinned}
            """);
        var oldest = await PushAsync(registry, "ci/app", "build-1", TimeSpan.FromDays(40));
        var old = await PushAsync(registry, "ci/app", "build-2", TimeSpan.FromDays(30));
        var release = await PushAsync(registry, "ci/app", "release-1", TimeSpan.FromDays(35));
        var pinned = await PushAsync(registry, "ci/app", "pinned", TimeSpan.FromDays(50));
        var young = await PushAsync(registry, "ci/app", "build-3", TimeSpan.FromDays(3)); // beyond the newest 2, but young
        var newest = await PushAsync(registry, "ci/app", "build-5", TimeSpan.FromDays(1));
        var second = await PushAsync(registry, "ci/app", "build-4", TimeSpan.FromDays(2));
        var elsewhere = await PushAsync(registry, "other/app", "build-1", TimeSpan.FromDays(40));
        registry.Time.Advance(Grace * 2);

        GcSummary dry = await CollectAsync(registry, dryRun: true);
        Assert.Equal(2, dry.TagsRemoved);
        Assert.Contains("build-1", await TagsAsync(registry, "ci/app"), StringComparison.Ordinal);
        Assert.True(File.Exists(DataPath(registry, oldest.Layer)));

        GcSummary summary = await CollectAsync(registry);
        Assert.Equal(2, summary.TagsRemoved);
        Assert.Equal(2, summary.ManifestsSwept);
        Assert.Equal(4, summary.BlobsSwept); // each image's manifest bytes and layer (the config is shared by every image)
        string tags = await TagsAsync(registry, "ci/app");
        Assert.DoesNotContain("\"build-1\"", tags, StringComparison.Ordinal);
        Assert.DoesNotContain("\"build-2\"", tags, StringComparison.Ordinal);
        foreach ((Digest manifest, Digest layer) in new[] { oldest, old })
        {
            Assert.False(File.Exists(DataPath(registry, manifest)));
            Assert.False(File.Exists(DataPath(registry, layer)));
        }
        foreach ((Digest manifest, Digest layer) in new[] { release, pinned, young, newest, second, elsewhere })
        {
            Assert.True(File.Exists(DataPath(registry, manifest)));
            Assert.True(File.Exists(DataPath(registry, layer)));
        }
        Assert.Equal(2, registry.Logs.GetSnapshot().Count(r => r.Id.Name == "RetentionRemovedTag"));
        string scrape = registry.Services.GetRequiredService<DebugEndpoints>().Scrape();
        Assert.Equal(2, PrometheusSamples.Parse(scrape)["registry_gc_retention_tags_deleted_total"]); // the dry run counted nothing
        Assert.Contains("\"build-1\"", await TagsAsync(registry, "other/app"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARevisionAnotherTagStillNames_Stays()
    {
        await using RegistryFixture registry = await StartAsync("policies:\n  retention:\n    - {repository: app, keeplast: 1}\n");
        string json = await registry.PushImageBlobsAsync("app");
        foreach (string tag in new[] { "old", "new" })
        {
            using HttpResponseMessage put = await registry.PutManifestAsync("app", tag, json);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        string link = Path.Combine(registry.V2, "repositories", "app", "_manifests", "tags", "old", "current", "link");
        File.SetLastWriteTimeUtc(link, File.GetLastWriteTimeUtc(link) - TimeSpan.FromDays(1));
        registry.Time.Advance(Grace * 2);
        GcSummary summary = await CollectAsync(registry);
        Assert.Equal((1, 0, 0), (summary.TagsRemoved, summary.ManifestsSwept, summary.BlobsSwept));
        using HttpResponseMessage pulled = await registry.Client.GetAsync("/v2/app/manifests/new", Ct);
        Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
    }
}
