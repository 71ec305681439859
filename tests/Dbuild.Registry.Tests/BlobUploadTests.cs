using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dbuild.Oci;

namespace Dbuild.Registry.Tests;

public sealed class BlobUploadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ByteArrayContent Chunk(byte[] data, string? contentRange = null)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (contentRange is not null) { content.Headers.TryAddWithoutValidation("Content-Range", contentRange); }
        return content;
    }

    private static async Task<string> StartAsync(RegistryFixture registry, string name = "repo")
    {
        using HttpResponseMessage response = await registry.Client.PostAsync($"/v2/{name}/blobs/uploads/", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("0-0", response.Headers.GetValues("Range").Single());
        string id = response.Headers.GetValues("Docker-Upload-UUID").Single();
        Assert.Equal($"/v2/{name}/blobs/uploads/{id}", response.Headers.Location!.OriginalString);
        return response.Headers.Location.OriginalString;
    }

    [Fact]
    public async Task PostPatchPut_StreamedUpload_Returns201AndStoresTheBlob()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(300_000);
        Digest digest = Digest.Compute(data);
        string location = await StartAsync(registry);
        using HttpResponseMessage patch = await registry.Client.PatchAsync(location, Chunk(data), Ct);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        Assert.Equal($"0-{data.Length - 1}", patch.Headers.GetValues("Range").Single());
        using HttpResponseMessage put = await registry.Client.PutAsync($"{patch.Headers.Location}?digest={digest}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal($"/v2/repo/blobs/{digest}", put.Headers.Location!.OriginalString);
        Assert.Equal(digest.ToString(), put.Headers.GetValues("Docker-Content-Digest").Single());
        byte[] back = await registry.Client.GetByteArrayAsync($"/v2/repo/blobs/{digest}", Ct);
        Assert.Equal(data, back);
    }

    [Fact]
    public async Task Post_WithDigest_IsAMonolithicUploadReturning201()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(5000);
        Digest digest = Digest.Compute(data);
        using HttpResponseMessage response = await registry.Client.PostAsync($"/v2/repo/blobs/uploads/?digest={digest}", Chunk(data), Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(digest.ToString(), response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(data, await registry.Client.GetByteArrayAsync($"/v2/repo/blobs/{digest}", Ct));
    }

    [Fact]
    public async Task Post_WithWrongDigest_Returns400DigestInvalidAndLeavesNothing()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(5000);
        Digest wrong = Digest.Compute([1, 2, 3]);
        using HttpResponseMessage response = await registry.Client.PostAsync($"/v2/repo/blobs/uploads/?digest={wrong}", Chunk(data), Ct);
        await ErrorBody.AssertAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        Assert.False(Directory.Exists(Path.Combine(registry.V2, "blobs")) && Directory.EnumerateFiles(Path.Combine(registry.V2, "blobs"), "*", SearchOption.AllDirectories).Any());
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(registry.V2, "repositories", "repo", "_uploads")));
    }

    [Fact]
    public async Task Put_DigestMismatch_Returns400AndTheUploadIsGone()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string location = await StartAsync(registry);
        using HttpResponseMessage patch = await registry.Client.PatchAsync(location, Chunk([1, 2, 3]), Ct);
        using HttpResponseMessage put = await registry.Client.PutAsync($"{location}?digest={Digest.Compute([9])}", null, Ct);
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        using HttpResponseMessage status = await registry.Client.GetAsync(location, Ct);
        await ErrorBody.AssertAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        Assert.False(Directory.Exists(Path.Combine(registry.V2, "blobs")));
    }

    [Fact]
    public async Task Put_WithoutDigest_Returns400DigestInvalid()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string location = await StartAsync(registry);
        using HttpResponseMessage put = await registry.Client.PutAsync(location, null, Ct);
        await ErrorBody.AssertAsync(put, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Put_WithFinalChunk_AppendsAndCompletes()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(2000);
        Digest digest = Digest.Compute(data);
        string location = await StartAsync(registry);
        using HttpResponseMessage patch = await registry.Client.PatchAsync(location, Chunk(data[..1000], "0-999"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        using HttpResponseMessage put = await registry.Client.PutAsync($"{location}?digest={digest}", Chunk(data[1000..], "1000-1999"), Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(data, await registry.Client.GetByteArrayAsync($"/v2/repo/blobs/{digest}", Ct));
    }

    [Fact]
    public async Task Patch_ChunksWithContentRange_AreAppendedInOrder()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(3000);
        string location = await StartAsync(registry);
        for (int start = 0; start < data.Length; start += 1000)
        {
            using HttpResponseMessage patch = await registry.Client.PatchAsync(location, Chunk(data[start..(start + 1000)], $"{start}-{start + 999}"), Ct);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            Assert.Equal($"0-{start + 999}", patch.Headers.GetValues("Range").Single());
            Assert.Equal(location, patch.Headers.Location!.OriginalString); // keyed by id: the URL never changes
        }
        using HttpResponseMessage put = await registry.Client.PutAsync($"{location}?digest={Digest.Compute(data)}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    [Theory]
    [InlineData("5-9")] // a gap: the upload holds 0 bytes
    [InlineData("0-3")] // the range length does not match the 5-byte body
    [InlineData("9-5")] // end before start
    [InlineData("bytes")] // not a range
    public async Task Patch_BadContentRange_Returns416(string range)
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string location = await StartAsync(registry);
        using HttpResponseMessage patch = await registry.Client.PatchAsync(location, Chunk([1, 2, 3, 4, 5], range), Ct);
        await ErrorBody.AssertAsync(patch, HttpStatusCode.RequestedRangeNotSatisfiable, "RANGE_INVALID");
        Assert.Equal("0-0", patch.Headers.GetValues("Range").Single());
    }

    [Fact]
    public async Task Patch_OverlappingRetry_Returns416AndTheSessionStaysUsable()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(20);
        string location = await StartAsync(registry);
        using HttpResponseMessage first = await registry.Client.PatchAsync(location, Chunk(data[..10], "0-9"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        using HttpResponseMessage retry = await registry.Client.PatchAsync(location, Chunk(data[..10], "0-9"), Ct); // overlap
        await ErrorBody.AssertAsync(retry, HttpStatusCode.RequestedRangeNotSatisfiable, "RANGE_INVALID");
        Assert.Equal("0-9", retry.Headers.GetValues("Range").Single());
        using HttpResponseMessage next = await registry.Client.PatchAsync(location, Chunk(data[10..], "10-19"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
        using HttpResponseMessage put = await registry.Client.PutAsync($"{location}?digest={Digest.Compute(data)}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    [Fact]
    public async Task GetStatus_AfterAChunk_Returns204WithRange()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string location = await StartAsync(registry);
        using HttpResponseMessage patch = await registry.Client.PatchAsync(location, Chunk(new byte[42]), Ct);
        using HttpResponseMessage status = await registry.Client.GetAsync(location, Ct);
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
        Assert.Equal("0-41", status.Headers.GetValues("Range").Single());
        Assert.Equal(location, status.Headers.Location!.OriginalString);
        Assert.NotEmpty(status.Headers.GetValues("Docker-Upload-UUID").Single());
    }

    [Fact]
    public async Task Delete_Upload_Returns204ThenTheUploadIsUnknown()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string location = await StartAsync(registry);
        using HttpResponseMessage delete = await registry.Client.DeleteAsync(location, Ct);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using HttpResponseMessage again = await registry.Client.DeleteAsync(location, Ct);
        await ErrorBody.AssertAsync(again, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using HttpResponseMessage patch = await registry.Client.PatchAsync(location, Chunk([1]), Ct);
        await ErrorBody.AssertAsync(patch, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Theory]
    [InlineData("0e6a1b3c-5d2f-4a7b-9c8d-1e2f3a4b5c6d")] // well-formed but never started
    [InlineData("..")] // not an id
    public async Task GetStatus_UnknownUpload_Returns404BlobUploadUnknown(string id)
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage status = await registry.Client.GetAsync($"/v2/repo/blobs/uploads/{id}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
    }

    [Fact]
    public async Task Upload_StartedInAnotherRepository_IsUnknownHere()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string location = await StartAsync(registry, "one");
        string id = location[(location.LastIndexOf('/') + 1)..];
        using HttpResponseMessage status = await registry.Client.GetAsync($"/v2/two/blobs/uploads/{id}", Ct);
        await ErrorBody.AssertAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Upload_ResumedAfterTheHashCacheIsLost_StillVerifies()
    {
        // Upload state lives in storage: a second registry process over the same root continues the session.
        await using RegistryFixture first = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(4000);
        string location = await StartAsync(first);
        using HttpResponseMessage patch = await first.Client.PatchAsync(location, Chunk(data[..2500], "0-2499"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        await using RegistryFixture second = await RegistryFixture.StartAsync(o => o.StorageRoot = first.StorageRoot);
        using HttpResponseMessage rest = await second.Client.PatchAsync(location, Chunk(data[2500..], "2500-3999"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, rest.StatusCode);
        using HttpResponseMessage put = await second.Client.PutAsync($"{location}?digest={Digest.Compute(data)}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    [Fact]
    public async Task Mount_FromRepositoryHoldingTheBlob_Returns201()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        Digest digest = await registry.PushBlobAsync("source", RandomNumberGenerator.GetBytes(100));
        using HttpResponseMessage mount = await registry.Client.PostAsync($"/v2/target/blobs/uploads/?mount={digest}&from=source", null, Ct);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        Assert.Equal($"/v2/target/blobs/{digest}", mount.Headers.Location!.OriginalString);
        using HttpResponseMessage head = await registry.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/target/blobs/{digest}"), Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task Mount_FromRepositoryWithoutTheBlob_StartsAnUploadSession()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        Digest digest = await registry.PushBlobAsync("elsewhere", RandomNumberGenerator.GetBytes(100));
        using HttpResponseMessage mount = await registry.Client.PostAsync($"/v2/target/blobs/uploads/?mount={digest}&from=source", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, mount.StatusCode);
        Assert.StartsWith("/v2/target/blobs/uploads/", mount.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mount_WithoutFrom_MountsWhenTheBlobExistsAnywhere()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        Digest digest = await registry.PushBlobAsync("somewhere", RandomNumberGenerator.GetBytes(100));
        using HttpResponseMessage mount = await registry.Client.PostAsync($"/v2/target/blobs/uploads/?mount={digest}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        using HttpResponseMessage unknown = await registry.Client.PostAsync($"/v2/target/blobs/uploads/?mount={Digest.Compute([7])}", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, unknown.StatusCode);
    }

    [Fact]
    public async Task TwentyConcurrentPushes_OfTheSameBlob_AllSucceedAndOneCopyRemains()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        byte[] data = RandomNumberGenerator.GetBytes(256 * 1024);
        Digest digest = Digest.Compute(data);
        Task<HttpStatusCode>[] pushes = [.. Enumerable.Range(0, 20).Select(async i =>
        {
            string name = i % 2 == 0 ? "shared" : $"repo{i}";
            using HttpResponseMessage start = await registry.Client.PostAsync($"/v2/{name}/blobs/uploads/", null, Ct);
            using HttpResponseMessage patch = await registry.Client.PatchAsync(start.Headers.Location, Chunk(data), Ct);
            using HttpResponseMessage put = await registry.Client.PutAsync($"{patch.Headers.Location}?digest={digest}", null, Ct);
            return put.StatusCode;
        })];
        HttpStatusCode[] results = await Task.WhenAll(pushes);
        Assert.All(results, s => Assert.Equal(HttpStatusCode.Created, s));
        string[] files = Directory.GetFiles(Path.Combine(registry.V2, "blobs"), "*", SearchOption.AllDirectories);
        Assert.Equal([Path.Combine(registry.V2, "blobs", "sha256", digest.Encoded[..2], digest.Encoded, "data")], files);
        Assert.Equal(data, await File.ReadAllBytesAsync(files[0], Ct));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(registry.V2, "repositories"), "data", SearchOption.AllDirectories));
    }
}
