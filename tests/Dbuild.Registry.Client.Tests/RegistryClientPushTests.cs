using System.Net;
using System.Text;
using Dbuild.Oci;

namespace Dbuild.Registry.Client.Tests;

public sealed class RegistryClientPushTests
{
    private const string Registry = "registry.test";
    private static readonly byte[] Data = Encoding.UTF8.GetBytes("0123456789abcdefghij");
    private static readonly Digest DataDigest = Digest.Compute(Data);

    private static RegistryClient Client(StrictHandler handler, long? chunkSize = null) =>
        new(new HttpClient(handler), new RegistryClientOptions { RetryDelay = TimeSpan.Zero, ChunkSize = chunkSize });

    private static BlobUpload Blob(string? mountFrom = null) => new(DataDigest, Data.Length, () => new MemoryStream(Data)) { MountFrom = mountFrom };

    [Fact]
    public async Task PushBlob_RegistryHasIt_SkipsUpload()
    {
        var handler = new StrictHandler().On(HttpMethod.Head, "/v2/app/blobs/" + DataDigest, HttpStatusCode.OK);

        BlobPushOutcome outcome = await Client(handler).PushBlobAsync(Registry, "app", Blob(), TestContext.Current.CancellationToken);

        Assert.Equal(BlobPushOutcome.AlreadyExists, outcome);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task PushBlob_MountAccepted_DoesNotUpload()
    {
        var handler = new StrictHandler()
            .On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.NotFound)
            .On(HttpMethod.Post, $"/v2/app/blobs/uploads/?mount={Uri.EscapeDataString(DataDigest.ToString())}&from=base", HttpStatusCode.Created);

        BlobPushOutcome outcome = await Client(handler).PushBlobAsync(Registry, "app", Blob(mountFrom: "base"), TestContext.Current.CancellationToken);

        Assert.Equal(BlobPushOutcome.Mounted, outcome);
    }

    [Fact]
    public async Task PushBlob_Monolithic_PutsBodyWithDigest()
    {
        var handler = new StrictHandler()
            .On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.NotFound)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/", (_, _) => StrictHandler.Accepted("/v2/app/blobs/uploads/u1?_state=x"))
            .On(HttpMethod.Put, $"/v2/app/blobs/uploads/u1?_state=x&digest={Uri.EscapeDataString(DataDigest.ToString())}", (_, body) =>
            {
                Assert.Equal(Data, body);
                return new HttpResponseMessage(HttpStatusCode.Created);
            });

        BlobPushOutcome outcome = await Client(handler).PushBlobAsync(Registry, "app", Blob(), TestContext.Current.CancellationToken);

        Assert.Equal(BlobPushOutcome.Uploaded, outcome);
    }

    [Fact]
    public async Task PushBlob_Chunked_PatchesRangesThenPuts()
    {
        var received = new MemoryStream();
        var handler = new StrictHandler()
            .On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.NotFound)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/", (_, _) => StrictHandler.Accepted("/v2/app/blobs/uploads/u1"))
            .On(HttpMethod.Patch, "/v2/app/blobs/uploads/u1", (request, body) =>
            {
                Assert.Equal("0-7", request.Content!.Headers.GetValues("Content-Range").Single());
                received.Write(body);
                return StrictHandler.Accepted("/v2/app/blobs/uploads/u2");
            })
            .On(HttpMethod.Patch, "/v2/app/blobs/uploads/u2", (request, body) =>
            {
                Assert.Equal("8-15", request.Content!.Headers.GetValues("Content-Range").Single());
                received.Write(body);
                return StrictHandler.Accepted("/v2/app/blobs/uploads/u3");
            })
            .On(HttpMethod.Patch, "/v2/app/blobs/uploads/u3", (request, body) =>
            {
                Assert.Equal("16-19", request.Content!.Headers.GetValues("Content-Range").Single());
                received.Write(body);
                return StrictHandler.Accepted("/v2/app/blobs/uploads/u4");
            })
            .On(HttpMethod.Put, "/v2/app/blobs/uploads/u4?digest=", HttpStatusCode.Created);

        await Client(handler, chunkSize: 8).PushBlobAsync(Registry, "app", Blob(), TestContext.Current.CancellationToken);

        Assert.Equal(Data, received.ToArray());
    }

    [Fact]
    public async Task PushBlob_TransientFailureDuringPut_RestartsUpload()
    {
        var handler = new StrictHandler()
            .On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.NotFound, repeat: true)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/", (_, _) => StrictHandler.Accepted("/v2/app/blobs/uploads/u1"))
            .On(HttpMethod.Put, "/v2/app/blobs/uploads/u1?digest=", HttpStatusCode.BadGateway)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/", (_, _) => StrictHandler.Accepted("/v2/app/blobs/uploads/u2"))
            .On(HttpMethod.Put, "/v2/app/blobs/uploads/u2?digest=", HttpStatusCode.Created);

        BlobPushOutcome outcome = await Client(handler).PushBlobAsync(Registry, "app", Blob(), TestContext.Current.CancellationToken);

        Assert.Equal(BlobPushOutcome.Uploaded, outcome);
    }

    [Fact]
    public async Task PushBlobOnce_TransientFailure_FailsWithoutRetrying()
    {
        var handler = new StrictHandler()
            .On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.NotFound)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/", (_, _) => StrictHandler.Accepted("/v2/app/blobs/uploads/u1"))
            .On(HttpMethod.Put, "/v2/app/blobs/uploads/u1?digest=", HttpStatusCode.BadGateway);

        RegistryException failed = await Assert.ThrowsAsync<RegistryException>(() =>
            Client(handler).PushBlobOnceAsync(Registry, "app", Blob(), TestContext.Current.CancellationToken));

        Assert.True(failed.IsTransient);
        Assert.Equal(3, handler.Requests.Count); // HEAD, POST, PUT: once each
    }

    [Fact]
    public async Task PushBlobOnce_HeadRefused_NotRetried()
    {
        var handler = new StrictHandler().On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.ServiceUnavailable)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/", HttpStatusCode.ServiceUnavailable);

        await Assert.ThrowsAsync<RegistryException>(() => Client(handler).PushBlobOnceAsync(Registry, "app", Blob(), TestContext.Current.CancellationToken));

        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task PushImage_ManifestGoesUpAfterEveryBlob()
    {
        var manifest = new ManifestUpload(MediaTypes.OciManifest, Encoding.UTF8.GetBytes("""{"schemaVersion":2}"""));
        var handler = new StrictHandler()
            .On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.NotFound, repeat: true)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/", (_, _) => StrictHandler.Accepted("/v2/app/blobs/uploads/u"), repeat: true)
            .On(HttpMethod.Put, "/v2/app/blobs/uploads/u?digest=", HttpStatusCode.Created, repeat: true)
            .On(HttpMethod.Put, "/v2/app/manifests/v1", (request, _) =>
            {
                Assert.Equal(MediaTypes.OciManifest, request.Content!.Headers.ContentType!.MediaType);
                return new HttpResponseMessage(HttpStatusCode.Created);
            });
        byte[] other = Encoding.UTF8.GetBytes("other");
        BlobUpload[] blobs = [Blob(), new(Digest.Compute(other), other.Length, () => new MemoryStream(other))];

        Digest pushed = await Client(handler).PushImageAsync(Registry, "app", blobs, [manifest], ["v1"], TestContext.Current.CancellationToken);

        Assert.Equal(manifest.Digest, pushed);
        Assert.Equal(HttpMethod.Put, handler.Requests[^1].Method);
        Assert.StartsWith("/v2/app/manifests/v1", handler.Requests[^1].PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(7, handler.Requests.Count);
    }
}
