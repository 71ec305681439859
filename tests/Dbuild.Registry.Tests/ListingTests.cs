using System.Net;
using System.Text;
using System.Text.Json;
using Dbuild.Oci;

namespace Dbuild.Registry.Tests;

public sealed class ListingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task TagAllAsync(RegistryFixture registry, string name, params string[] tags)
    {
        string json = await registry.PushImageBlobsAsync(name);
        foreach (string tag in tags)
        {
            using HttpResponseMessage put = await registry.PutManifestAsync(name, tag, json);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
    }

    [Fact]
    public async Task TagsList_ReturnsSortedTags()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        await TagAllAsync(registry, "lib/app", "b", "a", "c");
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/lib/app/tags/list", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"name\":\"lib/app\",\"tags\":[\"a\",\"b\",\"c\"]}", await response.Content.ReadAsStringAsync(Ct));
        Assert.False(response.Headers.Contains("Link"));
    }

    [Fact]
    public async Task TagsList_Paginated_FollowsLinkHeaders()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        await TagAllAsync(registry, "app", "t1", "t2", "t3", "t4", "t5");
        var seen = new List<string>();
        string? next = "/v2/app/tags/list?n=2";
        for (int page = 0; next is not null && page < 10; page++)
        {
            using HttpResponseMessage response = await registry.Client.GetAsync(next, Ct);
            using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            seen.AddRange(body.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!));
            next = response.Headers.TryGetValues("Link", out var links) ? links.Single().Split('>')[0].TrimStart('<') : null;
            if (next is not null) { Assert.EndsWith("rel=\"next\"", links!.Single(), StringComparison.Ordinal); }
        }
        Assert.Equal(["t1", "t2", "t3", "t4", "t5"], seen);
    }

    [Fact]
    public async Task TagsList_WithLast_StartsAfterIt()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        await TagAllAsync(registry, "app", "a", "b", "c");
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/app/tags/list?last=a", Ct);
        Assert.Equal("{\"name\":\"app\",\"tags\":[\"b\",\"c\"]}", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task TagsList_NZero_ReturnsEmptyList()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        await TagAllAsync(registry, "app", "a");
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/app/tags/list?n=0", Ct);
        Assert.Equal("{\"name\":\"app\",\"tags\":[]}", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task TagsList_UnknownRepository_Returns404NameUnknown()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/nothing/tags/list", Ct);
        await ErrorBody.AssertAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task TagsList_InvalidN_Returns400PaginationNumberInvalid()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        await TagAllAsync(registry, "app", "a");
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/app/tags/list?n=-3", Ct);
        await ErrorBody.AssertAsync(response, HttpStatusCode.BadRequest, "PAGINATION_NUMBER_INVALID");
    }

    [Fact]
    public async Task Catalog_Paginated_ListsEveryRepositoryOnce()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        foreach (string name in new[] { "c", "a/x", "b", "a" }) { await TagAllAsync(registry, name, "1"); }
        using HttpResponseMessage all = await registry.Client.GetAsync("/v2/_catalog", Ct);
        Assert.Equal("{\"repositories\":[\"a\",\"a/x\",\"b\",\"c\"]}", await all.Content.ReadAsStringAsync(Ct));
        using HttpResponseMessage first = await registry.Client.GetAsync("/v2/_catalog?n=3", Ct);
        Assert.Equal("{\"repositories\":[\"a\",\"a/x\",\"b\"]}", await first.Content.ReadAsStringAsync(Ct));
        Assert.Equal("</v2/_catalog?n=3&last=b>; rel=\"next\"", first.Headers.GetValues("Link").Single());
        using HttpResponseMessage second = await registry.Client.GetAsync("/v2/_catalog?n=3&last=b", Ct);
        Assert.Equal("{\"repositories\":[\"c\"]}", await second.Content.ReadAsStringAsync(Ct));
        Assert.False(second.Headers.Contains("Link"));
    }

    [Fact]
    public async Task Catalog_InvalidN_Returns400()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/_catalog?n=x", Ct);
        await ErrorBody.AssertAsync(response, HttpStatusCode.BadRequest, "PAGINATION_NUMBER_INVALID");
    }

    [Fact]
    public async Task Referrers_UnknownDigest_ReturnsEmptyIndex()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.GetAsync($"/v2/app/referrers/{Digest.EmptySha256}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MediaTypes.OciIndex, response.Content.Headers.ContentType!.MediaType);
        Assert.Equal($"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":[]}}", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Referrers_ListsManifestsWithThatSubject_AndFiltersByArtifactType()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string image = await registry.PushImageBlobsAsync("app");
        using HttpResponseMessage imagePut = await registry.PutManifestAsync("app", "v1", image);
        Digest subject = Digest.Parse(imagePut.Headers.GetValues("Docker-Content-Digest").Single());
        string subjectJson = RegistryFixture.DescriptorJson(MediaTypes.OciManifest, subject, Encoding.UTF8.GetByteCount(image));
        string sbom = await registry.PushImageBlobsAsync("app", subjectJson, "application/spdx+json");
        string signature = await registry.PushImageBlobsAsync("app", subjectJson, "application/vnd.dev.cosign");
        using HttpResponseMessage sbomPut = await registry.PutManifestAsync("app", Digest.Compute(Encoding.UTF8.GetBytes(sbom)).ToString(), sbom);
        using HttpResponseMessage sigPut = await registry.PutManifestAsync("app", "sig", signature);
        Assert.Equal(HttpStatusCode.Created, sbomPut.StatusCode);

        using HttpResponseMessage all = await registry.Client.GetAsync($"/v2/app/referrers/{subject}", Ct);
        using JsonDocument allBody = JsonDocument.Parse(await all.Content.ReadAsStringAsync(Ct));
        string[] types = [.. allBody.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("artifactType").GetString()!).Order(StringComparer.Ordinal)];
        Assert.Equal(["application/spdx+json", "application/vnd.dev.cosign"], types);
        Assert.False(all.Headers.Contains("OCI-Filters-Applied"));

        using HttpResponseMessage filtered = await registry.Client.GetAsync($"/v2/app/referrers/{subject}?artifactType=application/spdx%2Bjson", Ct);
        Assert.Equal("artifactType", filtered.Headers.GetValues("OCI-Filters-Applied").Single());
        using JsonDocument filteredBody = JsonDocument.Parse(await filtered.Content.ReadAsStringAsync(Ct));
        JsonElement only = Assert.Single(filteredBody.RootElement.GetProperty("manifests").EnumerateArray());
        Assert.Equal(sbomPut.Headers.GetValues("Docker-Content-Digest").Single(), only.GetProperty("digest").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(sbom), only.GetProperty("size").GetInt64());
        Assert.Equal(MediaTypes.OciManifest, only.GetProperty("mediaType").GetString());
    }

    [Fact]
    public async Task Referrers_PushedThroughAnotherInstanceOnTheSameStorage_AreSeenAtOnce()
    {
        await using RegistryFixture first = await RegistryFixture.StartAsync();
        await using RegistryFixture second = await RegistryFixture.StartAsync(o => o.StorageRoot = first.StorageRoot);
        string image = await first.PushImageBlobsAsync("app");
        using HttpResponseMessage imagePut = await first.PutManifestAsync("app", "v1", image);
        Digest subject = Digest.Parse(imagePut.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Empty(await ReferrerDigestsAsync(second, subject)); // second has now looked (and cached what it saw)
        string subjectJson = RegistryFixture.DescriptorJson(MediaTypes.OciManifest, subject, Encoding.UTF8.GetByteCount(image));
        string sbom = await first.PushImageBlobsAsync("app", subjectJson, "application/spdx+json");
        using HttpResponseMessage sbomPut = await first.PutManifestAsync("app", "sbom", sbom);
        string sbomDigest = sbomPut.Headers.GetValues("Docker-Content-Digest").Single();

        Assert.Equal([sbomDigest], await ReferrerDigestsAsync(second, subject));

        using HttpResponseMessage deleted = await first.Client.DeleteAsync($"/v2/app/manifests/{sbomDigest}", Ct);
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.Empty(await ReferrerDigestsAsync(second, subject));
    }

    private static async Task<string[]> ReferrerDigestsAsync(RegistryFixture registry, Digest subject)
    {
        using HttpResponseMessage response = await registry.Client.GetAsync($"/v2/app/referrers/{subject}", Ct);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        return [.. body.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()!)];
    }

    [Fact]
    public async Task Referrers_MalformedDigest_Returns400DigestInvalid()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/app/referrers/sha256:nothex", Ct);
        await ErrorBody.AssertAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }
}
