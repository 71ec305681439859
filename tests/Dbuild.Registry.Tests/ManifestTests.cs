using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dbuild.Oci;
using Microsoft.Extensions.DependencyInjection;

namespace Dbuild.Registry.Tests;

public sealed class ManifestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PutByTag_ValidManifest_Returns201AndIsStoredByteForByte()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string json = await registry.PushImageBlobsAsync("app");
        json = json.Replace("{\"schemaVersion\":2,", "{ \"schemaVersion\" : 2 ,\n", StringComparison.Ordinal); // odd whitespace must survive
        Digest digest = Digest.Compute(Encoding.UTF8.GetBytes(json));
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", json);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal($"/v2/app/manifests/{digest}", put.Headers.Location!.OriginalString);
        Assert.Equal(digest.ToString(), put.Headers.GetValues("Docker-Content-Digest").Single());
        foreach (string reference in new[] { "v1", digest.ToString() })
        {
            using HttpResponseMessage get = await registry.Client.GetAsync($"/v2/app/manifests/{reference}", Ct);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(MediaTypes.OciManifest, get.Content.Headers.ContentType!.MediaType);
            Assert.Equal(digest.ToString(), get.Headers.GetValues("Docker-Content-Digest").Single());
            Assert.Equal(json, await get.Content.ReadAsStringAsync(Ct));
        }
    }

    [Fact]
    public async Task Head_ByTag_Returns200WithDigestAndNoBody()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string json = await registry.PushImageBlobsAsync("app");
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", json);
        using HttpResponseMessage head = await registry.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/app/manifests/v1"), Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(Encoding.UTF8.GetByteCount(json), head.Content.Headers.ContentLength);
        Assert.Equal(put.Headers.GetValues("Docker-Content-Digest").Single(), head.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Get_AcceptNamingOnlyDockerTypes_StillReturnsTheOciManifest()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", await registry.PushImageBlobsAsync("app"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/app/manifests/v1");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.DockerManifest));
        using HttpResponseMessage get = await registry.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(MediaTypes.OciManifest, get.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Put_DockerSchema2Manifest_IsServedWithItsOwnMediaType()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string json = (await registry.PushImageBlobsAsync("app"))
            .Replace(MediaTypes.OciManifest, MediaTypes.DockerManifest, StringComparison.Ordinal)
            .Replace(MediaTypes.OciConfig, MediaTypes.DockerConfig, StringComparison.Ordinal)
            .Replace(MediaTypes.OciLayerGzip, MediaTypes.DockerLayerGzip, StringComparison.Ordinal);
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "docker", json, MediaTypes.DockerManifest);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using HttpResponseMessage get = await registry.Client.GetAsync("/v2/app/manifests/docker", Ct);
        Assert.Equal(MediaTypes.DockerManifest, get.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Put_IndexWithPresentChildren_Returns201()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string child = await registry.PushImageBlobsAsync("multi");
        using HttpResponseMessage childPut = await registry.PutManifestAsync("multi", "amd64", child);
        Digest childDigest = Digest.Compute(Encoding.UTF8.GetBytes(child));
        string index = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":[{RegistryFixture.DescriptorJson(MediaTypes.OciManifest, childDigest, Encoding.UTF8.GetByteCount(child))}]}}";
        using HttpResponseMessage put = await registry.PutManifestAsync("multi", "latest", index, MediaTypes.OciIndex);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using HttpResponseMessage get = await registry.Client.GetAsync("/v2/multi/manifests/latest", Ct);
        Assert.Equal(MediaTypes.OciIndex, get.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Put_IndexWithMissingChild_Returns400ManifestBlobUnknown()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string index = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":[{RegistryFixture.DescriptorJson(MediaTypes.OciManifest, Digest.Compute([1]), 1)}]}}";
        using HttpResponseMessage put = await registry.PutManifestAsync("multi", "latest", index, MediaTypes.OciIndex);
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Put_ManifestWithMissingLayer_Returns400ManifestBlobUnknown()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string json = await registry.PushImageBlobsAsync("app");
        string missing = json.Replace("\"layers\":[", $"\"layers\":[{RegistryFixture.DescriptorJson(MediaTypes.OciLayerGzip, Digest.Compute([42]), 1)},", StringComparison.Ordinal);
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", missing);
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Put_BlobsOnlyInAnotherRepository_Returns400ManifestBlobUnknown()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string json = await registry.PushImageBlobsAsync("owner");
        using HttpResponseMessage put = await registry.PutManifestAsync("thief", "v1", json);
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
    }

    [Theory]
    [InlineData("{not json")] // invalid JSON
    [InlineData("[]")] // not an object
    [InlineData("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}")] // schema 1
    [InlineData("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}")] // schemaVersion missing
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}")] // no config
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"digest\":\"sha256:XYZ\",\"size\":1}}")] // bad digest
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":-1}}")] // negative size
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}")] // index without manifests
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}")] // not a manifest type
    [InlineData("")] // empty body
    public async Task Put_InvalidManifest_Returns400ManifestInvalid(string json)
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", json);
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Put_ContentTypeContradictingMediaType_Returns400ManifestInvalid()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", await registry.PushImageBlobsAsync("app"), MediaTypes.DockerManifestList);
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task Put_Over4MiB_Returns413()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string json = $"{{\"schemaVersion\":2,\"annotations\":{{\"pad\":\"{new string('x', 4 * 1024 * 1024)}\"}}}}";
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", json);
        await ErrorBody.AssertAsync(put, HttpStatusCode.RequestEntityTooLarge, "SIZE_INVALID");
    }

    [Fact]
    public async Task PutByDigest_DigestMismatch_Returns400DigestInvalid()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage put = await registry.PutManifestAsync("app", Digest.Compute([1]).ToString(), await registry.PushImageBlobsAsync("app"));
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task PutByDigest_Matching_Returns201WithoutTag()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string json = await registry.PushImageBlobsAsync("app");
        Digest digest = Digest.Compute(Encoding.UTF8.GetBytes(json));
        using HttpResponseMessage put = await registry.PutManifestAsync("app", digest.ToString(), json);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using HttpResponseMessage tags = await registry.Client.GetAsync("/v2/app/tags/list", Ct);
        Assert.Equal("{\"name\":\"app\",\"tags\":[]}", await tags.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Put_WithSubject_ReturnsOciSubjectHeader()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        Digest subject = Digest.Compute([5]);
        string json = await registry.PushImageBlobsAsync("app", subject: RegistryFixture.DescriptorJson(MediaTypes.OciManifest, subject, 1));
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "sig", json);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(subject.ToString(), put.Headers.GetValues("OCI-Subject").Single());
    }

    [Theory]
    [InlineData("nope")] // unknown tag
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")] // unknown digest
    public async Task Get_Unknown_Returns404ManifestUnknown(string reference)
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage get = await registry.Client.GetAsync($"/v2/app/manifests/{reference}", Ct);
        await ErrorBody.AssertAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task NeitherTagNorDigest_GetHeadDelete404ManifestUnknown_Put400TagInvalid()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(o => o.DeleteEnabled = true);
        foreach (string reference in new[] { ".bad", "sha256:short" })
        {
            foreach (HttpMethod method in new[] { HttpMethod.Get, HttpMethod.Delete })
            {
                using var request = new HttpRequestMessage(method, $"/v2/app/manifests/{reference}");
                using HttpResponseMessage response = await registry.Client.SendAsync(request, Ct);
                await ErrorBody.AssertAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
            }
            using var head = new HttpRequestMessage(HttpMethod.Head, $"/v2/app/manifests/{reference}");
            using HttpResponseMessage headResponse = await registry.Client.SendAsync(head, Ct);
            Assert.Equal(HttpStatusCode.NotFound, headResponse.StatusCode);
        }
        using var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.ContentType = new("application/vnd.oci.image.manifest.v1+json");
        using HttpResponseMessage put = await registry.Client.PutAsync("/v2/app/manifests/.bad", content, Ct);
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "TAG_INVALID");
    }

    /// <summary>HttpClient removes dot segments before sending; Go's client (the conformance suite's) does not, so the request is made by hand.</summary>
    [Theory]
    [InlineData("PUT", "..", "400", "TAG_INVALID")]
    [InlineData("PUT", ".", "400", "TAG_INVALID")]
    [InlineData("GET", "..", "404", "MANIFEST_UNKNOWN")]
    [InlineData("DELETE", ".", "404", "MANIFEST_UNKNOWN")]
    public async Task DotSegmentReference_AsSentRaw(string method, string reference, string status, string code)
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(o => o.DeleteEnabled = true);
        var server = (Microsoft.AspNetCore.TestHost.TestServer)registry.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>();
        // What Kestrel hands over for a raw "PUT /v2/app/manifests/..": the path with dot segments removed, the raw target kept.
        string normalized = reference == ".." ? "/v2/app" : "/v2/app/manifests";
        Microsoft.AspNetCore.Http.HttpContext context = await server.SendAsync(c =>
        {
            c.Request.Method = method;
            c.Request.Path = normalized;
            c.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget = $"/v2/app/manifests/{reference}";
            if (method == "PUT")
            {
                c.Request.ContentType = "application/vnd.oci.image.manifest.v1+json";
                c.Request.Body = new MemoryStream("{}"u8.ToArray());
            }
        }, Ct);
        string answer = $"HTTP/1.1 {context.Response.StatusCode} " + await new StreamReader(context.Response.Body).ReadToEndAsync(Ct);
        Assert.StartsWith($"HTTP/1.1 {status} ", answer, StringComparison.Ordinal);
        Assert.Contains($"\"code\":\"{code}\"", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteByTag_Untags_Returns202AndKeepsTheRevision()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", await registry.PushImageBlobsAsync("app"));
        string digest = put.Headers.GetValues("Docker-Content-Digest").Single();
        using HttpResponseMessage delete = await registry.Client.DeleteAsync("/v2/app/manifests/v1", Ct);
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using HttpResponseMessage byTag = await registry.Client.GetAsync("/v2/app/manifests/v1", Ct);
        await ErrorBody.AssertAsync(byTag, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using HttpResponseMessage byDigest = await registry.Client.GetAsync($"/v2/app/manifests/{digest}", Ct);
        Assert.Equal(HttpStatusCode.OK, byDigest.StatusCode);
    }

    [Fact]
    public async Task DeleteByDigest_RemovesTheRevisionAndItsTags()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", await registry.PushImageBlobsAsync("app"));
        string digest = put.Headers.GetValues("Docker-Content-Digest").Single();
        using HttpResponseMessage delete = await registry.Client.DeleteAsync($"/v2/app/manifests/{digest}", Ct);
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using HttpResponseMessage byDigest = await registry.Client.GetAsync($"/v2/app/manifests/{digest}", Ct);
        await ErrorBody.AssertAsync(byDigest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using HttpResponseMessage byTag = await registry.Client.GetAsync("/v2/app/manifests/v1", Ct);
        Assert.Equal(HttpStatusCode.NotFound, byTag.StatusCode);
        using HttpResponseMessage again = await registry.Client.DeleteAsync($"/v2/app/manifests/{digest}", Ct);
        await ErrorBody.AssertAsync(again, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task Delete_WhenDeletionDisabled_Returns405Unsupported()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(o => o.DeleteEnabled = false);
        using HttpResponseMessage put = await registry.PutManifestAsync("app", "v1", await registry.PushImageBlobsAsync("app"));
        using HttpResponseMessage delete = await registry.Client.DeleteAsync("/v2/app/manifests/v1", Ct);
        await ErrorBody.AssertAsync(delete, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }
}
