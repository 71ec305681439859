using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

[Collection(RegistryEndToEnd.Name)]
public sealed class RegistrySkopeoTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SkopeoCopy_ToDbuildAndBack_KeepsTheManifestDigest()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/library/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{registry.Host}/library/busybox:1", $"oci:{work.Combine("back")}:copy");
        using var client = new HttpClient();
        (_, string served, string mediaType) = await Tools.GetManifestAsync(client, registry.BaseUrl, "library/busybox", "1", Ct);
        string original = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(busybox, "index.json"), Ct))!["manifests"]![0]!["digest"]!.ToString();
        string copied = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(work.Combine("back", "index.json"), Ct))!["manifests"]![0]!["digest"]!.ToString();
        Assert.Equal(original, served);
        Assert.Equal(original, copied);
        Assert.Equal(Dbuild.Oci.MediaTypes.OciManifest, mediaType);
    }

    [Fact]
    public async Task SkopeoCopyAll_MultiArchIndex_RoundTripsEveryPlatform()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        (string layout, Dbuild.Oci.Digest index) = TestImages.MakeMultiArchLayout(busybox, work.Combine("multi"));
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct);
        await Tools.SkopeoAsync(Ct, "copy", "--all", "--dest-tls-verify=false", $"oci:{layout}:multi", $"docker://{registry.Host}/multi:1");
        using var client = new HttpClient();
        (_, string served, string mediaType) = await Tools.GetManifestAsync(client, registry.BaseUrl, "multi", "1", Ct);
        Assert.Equal(index.ToString(), served);
        Assert.Equal(Dbuild.Oci.MediaTypes.OciIndex, mediaType);

        await Tools.SkopeoAsync(Ct, "copy", "--all", "--src-tls-verify=false", $"docker://{registry.Host}/multi:1", $"oci:{work.Combine("back")}:multi");
        string back = await File.ReadAllTextAsync(work.Combine("back", "index.json"), Ct);
        Assert.Contains(index.ToString(), back, StringComparison.Ordinal);
        foreach (string blob in Directory.EnumerateFiles(Path.Combine(layout, "blobs", "sha256")))
        {
            Assert.True(File.Exists(work.Combine("back", "blobs", "sha256", Path.GetFileName(blob))), $"blob {Path.GetFileName(blob)} missing after the round trip");
        }
        // Each platform is also reachable on its own.
        string arm = await Tools.SkopeoAsync(Ct, "inspect", "--tls-verify=false", "--override-arch", "arm64", $"docker://{registry.Host}/multi:1");
        Assert.Contains("\"Architecture\": \"arm64\"", arm, StringComparison.Ordinal);
    }
}
