using System.Net;
using System.Security.Cryptography;
using System.Text;
using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.IntegrationTests.RegistryClient;

/// <summary>The registry client against Debian's registry:2: push, pull, mount, chunked upload and basic auth.</summary>
public sealed class RegistryClientAgainstRegistry2Tests
{
    private static (byte[] Config, BlobUpload ConfigBlob, byte[] Layer, BlobUpload LayerBlob, ManifestUpload Manifest) SampleImage(int layerSize = 100_000)
    {
        byte[] layer = RandomNumberGenerator.GetBytes(layerSize);
        byte[] config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        Digest layerDigest = Digest.Compute(layer);
        Digest configDigest = Digest.Compute(config);
        string manifest = $$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.DockerManifest}}","config":{"mediaType":"{{MediaTypes.DockerConfig}}","digest":"{{configDigest}}","size":{{config.Length}} },"layers":[{"mediaType":"{{MediaTypes.DockerLayerGzip}}","digest":"{{layerDigest}}","size":{{layer.Length}} }]}
            """;
        return (config, new BlobUpload(configDigest, config.Length, () => new MemoryStream(config)), layer,
            new BlobUpload(layerDigest, layer.Length, () => new MemoryStream(layer)), new ManifestUpload(MediaTypes.DockerManifest, Encoding.UTF8.GetBytes(manifest.Trim())));
    }

    [Fact]
    public async Task PushThenPull_RoundTripsManifestAndBlobs()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using DistributionRegistry registry = await DistributionRegistry.StartAsync(ct);
        var client = new Dbuild.Registry.Client.RegistryClient(new HttpClient());
        var image = SampleImage();

        await client.PingAsync(registry.Host, ct);
        Digest pushed = await client.PushImageAsync(registry.Host, "team/app", [image.ConfigBlob, image.LayerBlob], [image.Manifest], ["v1"], ct);
        ResolvedImage pulled = await client.ResolveImageAsync(registry.Host, "team/app", "v1", Platform.LinuxAmd64, ct);
        using var layer = new MemoryStream();
        await client.CopyBlobAsync(registry.Host, "team/app", image.LayerBlob.Digest, layer, image.Layer.Length, ct);

        Assert.Equal(image.Manifest.Digest, pushed);
        Assert.Equal(pushed, pulled.Manifest.Digest);
        Assert.Equal(MediaTypes.DockerManifest, pulled.Manifest.MediaType);
        Assert.Equal(image.Layer, layer.ToArray());
    }

    [Fact]
    public async Task PushBlob_Twice_SecondIsSkipped_OtherRepositoryMounts()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using DistributionRegistry registry = await DistributionRegistry.StartAsync(ct);
        var client = new Dbuild.Registry.Client.RegistryClient(new HttpClient());
        var image = SampleImage();

        BlobPushOutcome first = await client.PushBlobAsync(registry.Host, "base", image.LayerBlob, ct);
        BlobPushOutcome second = await client.PushBlobAsync(registry.Host, "base", image.LayerBlob, ct);
        BlobPushOutcome mounted = await client.PushBlobAsync(registry.Host, "app", image.LayerBlob with { MountFrom = "base" }, ct);

        Assert.Equal(BlobPushOutcome.Uploaded, first);
        Assert.Equal(BlobPushOutcome.AlreadyExists, second);
        Assert.Equal(BlobPushOutcome.Mounted, mounted);
    }

    [Fact]
    public async Task PushBlob_Chunked_RegistryAcceptsAndServesIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using DistributionRegistry registry = await DistributionRegistry.StartAsync(ct);
        var client = new Dbuild.Registry.Client.RegistryClient(new HttpClient(), new RegistryClientOptions { ChunkSize = 64 * 1024 });
        var image = SampleImage(layerSize: 300_000);

        await client.PushBlobAsync(registry.Host, "chunks", image.LayerBlob, ct);

        Assert.Equal(image.Layer.Length, await client.StatBlobAsync(registry.Host, "chunks", image.LayerBlob.Digest, ct));
    }

    [Fact]
    public async Task Ping_BasicAuth_WrongPasswordFailsRightPasswordPasses()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using DistributionRegistry registry = await DistributionRegistry.StartAsync(ct, ("alice", "s3cret"));
        var good = new Dbuild.Registry.Client.RegistryClient(new HttpClient(), credentials: new StaticCredentialSource(
            new Dictionary<string, RegistryCredential> { [registry.Host] = new("alice", "s3cret") }));
        var bad = new Dbuild.Registry.Client.RegistryClient(new HttpClient(), credentials: new StaticCredentialSource(
            new Dictionary<string, RegistryCredential> { [registry.Host] = new("alice", "wrong") }));
        var image = SampleImage();

        await good.PushImageAsync(registry.Host, "private/app", [image.ConfigBlob, image.LayerBlob], [image.Manifest], ["1"], ct);
        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => bad.PingAsync(registry.Host, ct));

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Contains($"dbuild login {registry.Host}", ex.Message, StringComparison.Ordinal);
    }
}
