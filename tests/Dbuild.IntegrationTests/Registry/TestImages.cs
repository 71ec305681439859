using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Dbuild.Oci;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>Offline test images as OCI layouts: the busybox layout, and a two-platform index built on it.</summary>
internal static class TestImages
{
    /// <summary>
    /// Copies the busybox layout and adds a tiny linux/arm64 image and an index (tag <c>multi</c>) over both; a distinct
    /// <paramref name="armText"/> makes the arm64 layer and config unique (no client has them yet).
    /// </summary>
    public static (string Layout, Digest Index) MakeMultiArchLayout(string busyboxLayout, string directory, string armText = "hello from arm64\n")
    {
        CopyDirectory(busyboxLayout, directory);
        JsonNode busyboxIndex = JsonNode.Parse(File.ReadAllText(Path.Combine(busyboxLayout, "index.json")))!;
        JsonNode amd64 = busyboxIndex["manifests"]![0]!;

        byte[] tar = MakeTar(("hello.txt", armText));
        (Digest manifestDigest, byte[] manifest, _, _) = WriteSingleLayerImage(directory, tar, "arm64");

        byte[] index = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":["
            + $"{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{amd64["digest"]}\",\"size\":{amd64["size"]},\"platform\":{{\"architecture\":\"amd64\",\"os\":\"linux\"}}}},"
            + $"{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{manifestDigest}\",\"size\":{manifest.Length},\"platform\":{{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}}}]}}");
        Digest indexDigest = WriteBlob(directory, index);
        File.WriteAllText(Path.Combine(directory, "index.json"),
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":["
            + $"{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{amd64["digest"]}\",\"size\":{amd64["size"]},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"latest\"}}}},"
            + $"{{\"mediaType\":\"{MediaTypes.OciIndex}\",\"digest\":\"{indexDigest}\",\"size\":{index.Length},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"multi\"}}}}]}}");
        return (directory, indexDigest);
    }

    /// <summary>
    /// A one-image OCI layout under <paramref name="directory"/> tagged <paramref name="tag"/>: one layer holding
    /// <paramref name="randomBytes"/> random bytes (as hex, so the gzip layer is about that size), unique on every call.
    /// </summary>
    public static (string Layout, Digest Manifest, Digest Layer, long Bytes) MakeRandomImageLayout(string directory, string tag, int randomBytes)
    {
        Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(directory, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        byte[] tar = MakeTar(("random.txt", Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(randomBytes))));
        (Digest manifestDigest, byte[] manifest, Digest layerDigest, long blobBytes) = WriteSingleLayerImage(directory, tar, "amd64");
        File.WriteAllText(Path.Combine(directory, "index.json"),
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":["
            + $"{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{manifestDigest}\",\"size\":{manifest.Length},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"{tag}\"}}}}]}}");
        return (directory, manifestDigest, layerDigest, blobBytes + manifest.Length);
    }

    /// <summary>One gzip layer of <paramref name="tar"/>, its config and an OCI manifest, written as blobs of the layout.</summary>
    /// <returns>The manifest's digest and bytes, the layer's digest, and the layer's and config's size together.</returns>
    private static (Digest Manifest, byte[] ManifestBytes, Digest Layer, long LayerAndConfigBytes) WriteSingleLayerImage(string directory, byte[] tar, string architecture)
    {
        byte[] layer = Gzip(tar);
        Digest layerDigest = WriteBlob(directory, layer);
        byte[] config = Encoding.UTF8.GetBytes(
            $"{{\"architecture\":\"{architecture}\",\"os\":\"linux\",\"config\":{{}},\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{Digest.Compute(tar)}\"]}}}}");
        Digest configDigest = WriteBlob(directory, config);
        byte[] manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},"
            + $"\"layers\":[{{\"mediaType\":\"{MediaTypes.OciLayerGzip}\",\"digest\":\"{layerDigest}\",\"size\":{layer.Length}}}]}}");
        Digest manifestDigest = WriteBlob(directory, manifest);
        return (manifestDigest, manifest, layerDigest, layer.Length + config.Length);
    }

    private static Digest WriteBlob(string layout, byte[] content)
    {
        Digest digest = Digest.Compute(content);
        File.WriteAllBytes(Path.Combine(layout, "blobs", "sha256", digest.Encoded), content);
        return digest;
    }

    private static byte[] MakeTar(params (string Name, string Content)[] files)
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach ((string name, string content) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                    ModificationTime = DateTimeOffset.UnixEpoch,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                };
                writer.WriteEntry(entry);
            }
        }
        return output.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) { gzip.Write(data); }
        return output.ToArray();
    }

    public static void CopyDirectory(string source, string destination)
    {
        foreach (string dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, dir)));
        }
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)), overwrite: true);
        }
    }
}
