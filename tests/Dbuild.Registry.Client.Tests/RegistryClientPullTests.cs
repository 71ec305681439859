using System.Net;
using System.Text;
using Dbuild.Oci;

namespace Dbuild.Registry.Client.Tests;

public sealed class RegistryClientPullTests
{
    private const string Registry = "registry.test";

    private static RegistryClient Client(StrictHandler handler) => new(new HttpClient(handler), new RegistryClientOptions { RetryDelay = TimeSpan.Zero });

    [Fact]
    public async Task GetManifest_SendsEveryManifestTypeInAccept()
    {
        var handler = new StrictHandler().On(HttpMethod.Get, "/v2/library/busybox/manifests/latest", (request, _) =>
        {
            string accept = string.Join(",", request.Headers.Accept.Select(a => a.MediaType));
            Assert.Equal(string.Join(",", MediaTypes.AllManifestTypes), accept);
            return StrictHandler.Json("""{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}""",
                mediaType: MediaTypes.DockerManifest);
        });

        ManifestResponse manifest = await Client(handler).GetManifestAsync(Registry, "library/busybox", "latest", TestContext.Current.CancellationToken);

        Assert.Equal(MediaTypes.DockerManifest, manifest.MediaType);
        Assert.Equal(Digest.Compute(manifest.Content.Span), manifest.Digest);
    }

    [Fact]
    public async Task GetManifest_ByDigestWithOtherBytes_ThrowsDigestMismatch()
    {
        Digest wanted = Digest.Compute("{}"u8);
        var handler = new StrictHandler().On(HttpMethod.Get, "/v2/app/manifests/" + wanted, (_, _) => StrictHandler.Json("""{"tampered":true}"""));

        await Assert.ThrowsAsync<DigestMismatchException>(() => Client(handler).GetManifestAsync(Registry, "app", wanted.ToString(), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task GetManifest_NotFound_ThrowsManifestUnknown()
    {
        var handler = new StrictHandler().On(HttpMethod.Get, "/v2/app/manifests/nope", (_, _) =>
            StrictHandler.Json("""{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}""", HttpStatusCode.NotFound));

        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => Client(handler).GetManifestAsync(Registry, "app", "nope", TestContext.Current.CancellationToken));

        Assert.Equal("MANIFEST_UNKNOWN", ex.ErrorCode);
        Assert.Equal("Pulling manifest nope from registry.test/app failed: 404 MANIFEST_UNKNOWN (manifest unknown). Check the repository name, tag and digest.", ex.Message);
    }

    [Fact]
    public async Task ResolveImage_Index_PicksPlatformManifest()
    {
        string amd = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}""";
        string arm = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[{}]}""";
        Digest amdDigest = Digest.Compute(Encoding.UTF8.GetBytes(amd));
        Digest armDigest = Digest.Compute(Encoding.UTF8.GetBytes(arm));
        string index = $$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{armDigest}}","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"} },
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{amdDigest}}","size":1,"platform":{"os":"linux","architecture":"amd64"} },
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{amdDigest}}","size":1,"platform":{"os":"unknown","architecture":"unknown"} }
            """ + "]}";
        var handler = new StrictHandler()
            .On(HttpMethod.Get, "/v2/app/manifests/1", (_, _) => StrictHandler.Json(index, mediaType: MediaTypes.OciIndex))
            .On(HttpMethod.Get, "/v2/app/manifests/" + armDigest, (_, _) => StrictHandler.Json(arm, mediaType: MediaTypes.OciManifest));

        ResolvedImage image = await Client(handler).ResolveImageAsync(Registry, "app", "1", Platform.LinuxArm64, TestContext.Current.CancellationToken);

        Assert.Equal(armDigest, image.Manifest.Digest);
        Assert.NotNull(image.Index);
    }

    [Fact]
    public async Task ResolveImage_NoMatchingPlatform_NamesWhatTheIndexHas()
    {
        string index = $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{Digest.EmptySha256}}","size":1,"platform":{"os":"linux","architecture":"s390x"} }""" + "]}";
        var handler = new StrictHandler().On(HttpMethod.Get, "/v2/app/manifests/1", (_, _) => StrictHandler.Json(index, mediaType: MediaTypes.OciIndex));

        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() =>
            Client(handler).ResolveImageAsync(Registry, "app", "1", Platform.LinuxAmd64, TestContext.Current.CancellationToken));

        Assert.Equal($"registry.test/app:1: no match for platform linux/amd64 in manifest {Digest.Compute(Encoding.UTF8.GetBytes(index))}: not found; the index has linux/s390x.", ex.Message);
        Assert.Equal("MANIFEST_UNKNOWN", ex.ErrorCode);
    }

    [Theory]
    [InlineData(HttpStatusCode.OK, true)]
    [InlineData(HttpStatusCode.NotFound, false)]
    public async Task ManifestExists_HeadsTheManifestWithEveryManifestType(HttpStatusCode status, bool expected)
    {
        Digest digest = Digest.Compute("{}"u8);
        var handler = new StrictHandler().On(HttpMethod.Head, "/v2/app/manifests/" + digest, (request, _) =>
        {
            Assert.Equal(MediaTypes.AllManifestTypes, request.Headers.Accept.Select(a => a.MediaType));
            return new HttpResponseMessage(status);
        });

        Assert.Equal(expected, await Client(handler).ManifestExistsAsync(Registry, "app", digest.ToString(), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ManifestExists_Denied_Throws()
    {
        var handler = new StrictHandler().On(HttpMethod.Head, "/v2/app/manifests/1", HttpStatusCode.Forbidden);

        await Assert.ThrowsAsync<RegistryException>(() => Client(handler).ManifestExistsAsync(Registry, "app", "1", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task CopyBlob_Matching_StreamsAndVerifies()
    {
        byte[] data = Encoding.UTF8.GetBytes("layer bytes");
        Digest digest = Digest.Compute(data);
        var handler = new StrictHandler().On(HttpMethod.Get, "/v2/app/blobs/" + digest, (_, _) => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(data) });
        using var destination = new MemoryStream();

        long size = await Client(handler).CopyBlobAsync(Registry, "app", digest, destination, data.Length, TestContext.Current.CancellationToken);

        Assert.Equal(data.Length, size);
        Assert.Equal(data, destination.ToArray());
    }

    [Fact]
    public async Task CopyBlob_Corrupted_ThrowsDigestMismatch()
    {
        Digest digest = Digest.Compute("expected"u8);
        var handler = new StrictHandler().On(HttpMethod.Get, "/v2/app/blobs/" + digest, (_, _) => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent("corrupt!"u8.ToArray()) });
        using var destination = new MemoryStream();

        await Assert.ThrowsAsync<DigestMismatchException>(() => Client(handler).CopyBlobAsync(Registry, "app", digest, destination, cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task StatBlob_Missing_ReturnsNull()
    {
        var handler = new StrictHandler().On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.NotFound);

        Assert.Null(await Client(handler).StatBlobAsync(Registry, "app", Digest.EmptySha256, TestContext.Current.CancellationToken));
    }
}
