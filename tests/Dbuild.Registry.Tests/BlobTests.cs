using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dbuild.Oci;

namespace Dbuild.Registry.Tests;

public sealed class BlobTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Get_KnownBlob_Returns200WithDigestAndLength()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(1234);
        Digest digest = await registry.PushBlobAsync("repo", data);
        using HttpResponseMessage response = await registry.Client.GetAsync($"/v2/repo/blobs/{digest}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(digest.ToString(), response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(1234, response.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(data, await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Head_KnownBlob_Returns200WithHeadersOnly()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        Digest digest = await registry.PushBlobAsync("repo", RandomNumberGenerator.GetBytes(999));
        using HttpResponseMessage response = await registry.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/repo/blobs/{digest}"), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(999, response.Content.Headers.ContentLength);
        Assert.Equal(digest.ToString(), response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Get_WithRange_Returns206WithContentRange()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(1000);
        Digest digest = await registry.PushBlobAsync("repo", data);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/repo/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(100, 199);
        using HttpResponseMessage response = await registry.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 100-199/1000", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(data[100..200], await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Get_WithUnsatisfiableRange_Returns416()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        Digest digest = await registry.PushBlobAsync("repo", RandomNumberGenerator.GetBytes(100));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/repo/blobs/{digest}");
        request.Headers.Range = new RangeHeaderValue(500, 600);
        using HttpResponseMessage response = await registry.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */100", response.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task Get_UnknownBlob_Returns404BlobUnknown()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.GetAsync($"/v2/repo/blobs/{Digest.EmptySha256}", Ct);
        await ErrorBody.AssertAsync(response, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Head_UnknownBlob_Returns404WithoutBody()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/repo/blobs/{Digest.EmptySha256}"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Get_BlobOfAnotherRepository_Returns404()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        Digest digest = await registry.PushBlobAsync("private", RandomNumberGenerator.GetBytes(10));
        using HttpResponseMessage response = await registry.Client.GetAsync($"/v2/other/blobs/{digest}", Ct);
        await ErrorBody.AssertAsync(response, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Get_MalformedDigest_Returns400DigestInvalid()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage response = await registry.Client.GetAsync("/v2/repo/blobs/sha256:1234", Ct);
        await ErrorBody.AssertAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Delete_KnownBlob_Returns202AndUnlinks()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        Digest digest = await registry.PushBlobAsync("repo", RandomNumberGenerator.GetBytes(10));
        using HttpResponseMessage delete = await registry.Client.DeleteAsync($"/v2/repo/blobs/{digest}", Ct);
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using HttpResponseMessage get = await registry.Client.GetAsync($"/v2/repo/blobs/{digest}", Ct);
        await ErrorBody.AssertAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using HttpResponseMessage again = await registry.Client.DeleteAsync($"/v2/repo/blobs/{digest}", Ct);
        await ErrorBody.AssertAsync(again, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Delete_WhenDeletionDisabled_Returns405Unsupported()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(o => o.DeleteEnabled = false);
        Digest digest = await registry.PushBlobAsync("repo", RandomNumberGenerator.GetBytes(10));
        using HttpResponseMessage delete = await registry.Client.DeleteAsync($"/v2/repo/blobs/{digest}", Ct);
        await ErrorBody.AssertAsync(delete, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }
}
