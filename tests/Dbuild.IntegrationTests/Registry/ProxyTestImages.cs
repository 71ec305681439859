using System.Text.Json.Nodes;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Oci;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>Images for the pull-through cache tests: the two-platform index of <see cref="TestImages"/>, read back by digest.</summary>
internal static class ProxyTestImages
{
    /// <summary>
    /// The two-platform layout with an arm64 image unique to this run (so no docker daemon has its layer yet), and the
    /// digests of its index, of each platform's manifest and of the arm64 layer.
    /// </summary>
    public static MultiArch Make(string busyboxLayout, string directory)
    {
        (string layout, Digest index) = TestImages.MakeMultiArchLayout(busyboxLayout, directory, $"proxy test {Guid.NewGuid():N}\n");
        JsonNode indexJson = ReadBlob(layout, index);
        Digest amd64 = Digest.Parse(indexJson["manifests"]![0]!["digest"]!.ToString());
        Digest arm64 = Digest.Parse(indexJson["manifests"]![1]!["digest"]!.ToString());
        Digest armLayer = Digest.Parse(ReadBlob(layout, arm64)["layers"]![0]!["digest"]!.ToString());
        return new MultiArch(layout, index, amd64, arm64, armLayer);
    }

    /// <summary>The digest of the busybox layout's single manifest (tag <c>latest</c>).</summary>
    public static Digest BusyboxManifest(string busyboxLayout) =>
        Digest.Parse(JsonNode.Parse(File.ReadAllText(Path.Combine(busyboxLayout, "index.json")))!["manifests"]![0]!["digest"]!.ToString());

    /// <summary>The first layer of a manifest in an OCI layout.</summary>
    public static Digest FirstLayer(string layout, Digest manifest) => Digest.Parse(ReadBlob(layout, manifest)["layers"]![0]!["digest"]!.ToString());

    /// <summary>Where a registry:2 storage root keeps a blob's bytes.</summary>
    public static string BlobData(string storageRoot, Digest digest) =>
        Path.Combine(storageRoot, "docker", "registry", "v2", "blobs", digest.Algorithm, digest.Encoded[..2], digest.Encoded, "data");

    /// <summary>
    /// The requests the proxy (by its User-Agent) sent upstream that name <paramref name="fragment"/> (e.g.
    /// <c>"HEAD /v2/app/manifests/1 "</c>), from the upstream's access log.
    /// </summary>
    public static int CountRequests(DistributionRegistry upstream, string fragment) =>
        upstream.Output.Count(line => line.Contains(fragment, StringComparison.Ordinal) && line.Contains("\"dbuild-registry-proxy/", StringComparison.Ordinal));

    private static JsonNode ReadBlob(string layout, Digest digest) => JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "blobs", "sha256", digest.Encoded)))!;
}

/// <summary>A two-platform image in an OCI layout (tag <c>multi</c>).</summary>
internal sealed record MultiArch(string Layout, Digest Index, Digest Amd64, Digest Arm64, Digest Arm64Layer);
