using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.IntegrationTests.RegistryClient.Faults;

/// <summary>
/// A one-layer image (a layer of a little over 1 MiB, so a fault can land mid-body) pushed straight to the registry behind a
/// <see cref="FaultProxy"/> as <c>app:1</c>, and the client options the fault tests use: timeouts short enough for
/// tests, delays that a <c>Retry-After</c> clearly exceeds.
/// </summary>
internal sealed record FaultTestImage(byte[] Layer, BlobUpload LayerBlob, BlobUpload ConfigBlob, ManifestUpload Manifest)
{
    public const string Repository = "app";
    public const int LayerSize = 1024 * 1024;

    public static RegistryClientOptions Options(int maxAttempts = 4, double readTimeoutSeconds = 1) => new()
    {
        MaxAttempts = maxAttempts,
        ReadTimeout = TimeSpan.FromSeconds(readTimeoutSeconds),
        RetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryAfter = TimeSpan.FromSeconds(5),
    };

    /// <summary>A real layer (a gzipped tar holding one file of random bytes, which do not compress) and its config.</summary>
    public static FaultTestImage Create()
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "random.bin")
            {
                DataStream = new MemoryStream(RandomNumberGenerator.GetBytes(LayerSize)),
                ModificationTime = DateTimeOffset.UnixEpoch,
            });
        }
        using var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true)) { gzip.Write(tar.GetBuffer(), 0, (int)tar.Length); }
        byte[] layer = gzipped.ToArray();
        Digest diffId = Digest.Compute(tar.GetBuffer().AsSpan(0, (int)tar.Length));
        byte[] config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["{{{diffId}}}"]}}""");
        Digest layerDigest = Digest.Compute(layer);
        Digest configDigest = Digest.Compute(config);
        string manifest = $$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{configDigest}}","size":{{config.Length}} },"layers":[{"mediaType":"{{MediaTypes.OciLayerGzip}}","digest":"{{layerDigest}}","size":{{layer.Length}} }]}
            """;
        return new FaultTestImage(layer, new BlobUpload(layerDigest, layer.Length, () => new MemoryStream(layer)),
            new BlobUpload(configDigest, config.Length, () => new MemoryStream(config)), new ManifestUpload(MediaTypes.OciManifest, Encoding.UTF8.GetBytes(manifest.Trim())));
    }

    /// <summary>Pushes the image as <c>app:1</c> directly (not through the proxy).</summary>
    public async Task PushAsync(string registry, CancellationToken cancellationToken)
    {
        var client = new Dbuild.Registry.Client.RegistryClient(new HttpClient());
        await client.PushImageAsync(registry, Repository, [ConfigBlob, LayerBlob], [Manifest], ["1"], cancellationToken);
    }
}
