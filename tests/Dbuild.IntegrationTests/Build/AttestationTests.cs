using System.Formats.Tar;
using System.Text.Json.Nodes;
using Dbuild.IntegrationTests.Registry;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// <c>dbuild build --push --provenance --sbom</c> FROM the debootstrap Debian base (testdata/images/make-debian-base.sh),
/// to registry:2 (Debian's docker-registry 2.8: no referrers API, so the sha256-&lt;hex&gt; referrers tag) and to
/// <c>dbuild registry serve</c> (referrers API); the attestations read back with skopeo and the registry API.
/// </summary>
public sealed class AttestationTests
{
    private const string SourceDateEpoch = "1700000000";

    [Fact]
    public async Task Push_Registry2_AttachesProvenanceAndSbomUnderTheReferrersTag()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-attest-");
        await using DistributionRegistry registry = await DistributionRegistry.StartAsync(ct);
        string baseDigest = await PushDebianAsync(registry.Host, ct);
        string image = $"{registry.Host}/attest/app:1";

        await BuildAsync(temp, registry.Host, image, ["--provenance=mode=max", "--sbom=true"], ct);

        string digest = await ManifestDigestAsync(image, ct);
        using var http = new HttpClient();
        using HttpResponseMessage api = await http.GetAsync($"http://{registry.Host}/v2/attest/app/referrers/{digest}", ct);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, api.StatusCode); // registry 2.8 has no referrers API: the fallback tag is needed
        JsonNode referrers = JsonNode.Parse(await Tools.SkopeoAsync(ct, "inspect", "--tls-verify=false", "--raw", $"docker://{registry.Host}/attest/app:sha256-{digest[7..]}"))!;
        await AssertAttestationsAsync(registry.Host, referrers, digest, baseDigest, ct);
    }

    [Fact]
    public async Task Push_DbuildRegistry_ListsAttestationsInTheReferrersApi()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-attest-");
        await using RegistryServer server = await RegistryServer.StartDbuildAsync(temp.Path, temp.Combine("registry"), ct);
        string baseDigest = await PushDebianAsync(server.Host, ct);
        string image = $"{server.Host}/attest/app:1";

        await BuildAsync(temp, server.Host, image, ["--provenance=mode=max", "--sbom=true"], ct);

        string digest = await ManifestDigestAsync(image, ct);
        using var http = new HttpClient();
        JsonNode referrers = JsonNode.Parse(await http.GetStringAsync($"{server.BaseUrl}/v2/attest/app/referrers/{digest}", ct))!;
        await AssertAttestationsAsync(server.Host, referrers, digest, baseDigest, ct);
    }

    [Fact]
    public async Task Push_WithAndWithoutAttestations_ImageDigestIsTheSame()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-attest-");
        await using RegistryServer server = await RegistryServer.StartDbuildAsync(temp.Path, temp.Combine("registry"), ct);
        await PushDebianAsync(server.Host, ct);

        await BuildAsync(temp, server.Host, $"{server.Host}/attest/plain:1", ["--provenance=false"], ct);
        await BuildAsync(temp, server.Host, $"{server.Host}/attest/attested:1", ["--provenance=mode=max", "--sbom=true"], ct);

        string plain = await ManifestDigestAsync($"{server.Host}/attest/plain:1", ct);
        Assert.Equal(plain, await ManifestDigestAsync($"{server.Host}/attest/attested:1", ct));
        using var http = new HttpClient();
        JsonNode none = JsonNode.Parse(await http.GetStringAsync($"{server.BaseUrl}/v2/attest/plain/referrers/{plain}", ct))!;
        Assert.Empty(none["manifests"]!.AsArray());
    }

    [Fact]
    public async Task OciOutput_WithoutPush_WritesAttestationsAsLayoutReferrers()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-attest-");
        await using RegistryServer server = await RegistryServer.StartDbuildAsync(temp.Path, temp.Combine("registry"), ct);
        await PushDebianAsync(server.Host, ct);

        await BuildAsync(temp, server.Host, "example/attest:1", ["--provenance=true", "--output", $"type=oci,dest={temp.Combine("out.tar")}"], ct);

        await TarFile.ExtractToDirectoryAsync(temp.Combine("out.tar"), Directory.CreateDirectory(temp.Combine("layout")).FullName, false, ct);
        JsonArray manifests = JsonNode.Parse(await File.ReadAllTextAsync(temp.Combine("layout", "index.json"), ct))!["manifests"]!.AsArray();
        Assert.Equal(2, manifests.Count);
        Assert.Equal("application/vnd.in-toto+json", (string?)manifests[1]!["artifactType"]);
        JsonNode referrer = JsonNode.Parse(await File.ReadAllTextAsync(temp.Combine("layout", "blobs", "sha256", ((string)manifests[1]!["digest"]!)[7..]), ct))!;
        Assert.Equal((string?)manifests[0]!["digest"], (string?)referrer["subject"]!["digest"]);
        // skopeo reads the image in that layout as usual: the referrer does not get in its way.
        await Tools.SkopeoAsync(ct, "inspect", "--raw", $"oci:{temp.Combine("layout")}:1");
    }

    /// <summary>One referrer (the in-toto artifact) naming the image; its provenance names the base by digest, its SBOM lists the base's packages.</summary>
    private static async Task AssertAttestationsAsync(string host, JsonNode referrers, string digest, string baseDigest, CancellationToken ct)
    {
        JsonNode entry = Assert.Single(referrers["manifests"]!.AsArray())!;
        Assert.Equal("application/vnd.in-toto+json", (string?)entry["artifactType"]);
        JsonNode artifact = JsonNode.Parse(await Tools.SkopeoAsync(ct, "inspect", "--tls-verify=false", "--raw", $"docker://{host}/attest/app@{entry["digest"]}"))!;
        Assert.Equal(digest, (string?)artifact["subject"]!["digest"]);
        Assert.Equal("application/vnd.in-toto+json", (string?)artifact["artifactType"]);
        var layers = artifact["layers"]!.AsArray().ToDictionary(l => (string)l!["annotations"]!["in-toto.io/predicate-type"]!, l => (string)l!["digest"]!);
        Assert.Equal(["https://slsa.dev/provenance/v0.2", "https://spdx.dev/Document"], layers.Keys.Order(StringComparer.Ordinal));

        using var http = new HttpClient();
        JsonNode provenance = JsonNode.Parse(await http.GetStringAsync($"http://{host}/v2/attest/app/blobs/{layers["https://slsa.dev/provenance/v0.2"]}", ct))!;
        Assert.Equal(digest[7..], (string?)provenance["subject"]![0]!["digest"]!["sha256"]);
        JsonNode material = Assert.Single(provenance["predicate"]!["materials"]!.AsArray())!;
        Assert.Equal($"pkg:docker/{host}/debian@bookworm?platform=linux%2Famd64", (string?)material["uri"]);
        Assert.Equal(baseDigest[7..], (string?)material["digest"]!["sha256"]);
        Assert.Equal("2023-11-14T22:13:20Z", (string?)provenance["predicate"]!["metadata"]!["buildStartedOn"]);

        JsonNode sbom = JsonNode.Parse(await http.GetStringAsync($"http://{host}/v2/attest/app/blobs/{layers["https://spdx.dev/Document"]}", ct))!;
        var listed = sbom["predicate"]!["packages"]!.AsArray().ToDictionary(p => (string)p!["name"]!, p => (string)p!["versionInfo"]!);
        Dictionary<string, string> installed = await DebianPackagesAsync(ct);
        Assert.True(installed.Count > 50, $"the debootstrap base lists only {installed.Count} packages");
        Assert.Equal(installed.Count, listed.Count);
        foreach (string name in (string[])["dpkg", "libc6", "base-files", "bash", "apt"]) { Assert.Equal(installed[name], listed[name]); }
    }

    /// <summary>The packages make-debian-base.sh installed, from the dpkg status it keeps beside the layout.</summary>
    private static async Task<Dictionary<string, string>> DebianPackagesAsync(CancellationToken ct)
    {
        var packages = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] stanzas = (await File.ReadAllTextAsync(Path.Combine(DebianLayout(), "dpkg-status"), ct)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        foreach (string stanza in stanzas)
        {
            var fields = stanza.Split('\n').Where(l => l.Contains(": ", StringComparison.Ordinal) && l[0] != ' ')
                .Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            if (fields.GetValueOrDefault("Status") == "install ok installed") { packages[fields["Package"]] = fields["Version"]; }
        }
        return packages;
    }

    private static string DebianLayout() => DebianBuildFixture.Layout();

    /// <summary>Copies the debootstrap base into the registry as debian:bookworm; returns its manifest digest.</summary>
    private static async Task<string> PushDebianAsync(string host, CancellationToken ct)
    {
        string layout = DebianLayout();
        await Tools.SkopeoAsync(ct, "copy", "--dest-tls-verify=false", $"oci:{layout}:bookworm", $"docker://{host}/debian:bookworm");
        return await ManifestDigestAsync($"{host}/debian:bookworm", ct);
    }

    /// <summary>The digest of the manifest's bytes as the registry serves them.</summary>
    private static async Task<string> ManifestDigestAsync(string image, CancellationToken ct)
    {
        var reference = Dbuild.Oci.Reference.Parse(image);
        using var http = new HttpClient();
        return (await Tools.GetManifestAsync(http, $"http://{reference.Registry}", reference.Repository, reference.Tag!, ct)).Digest;
    }

    private static async Task BuildAsync(TempDirectory temp, string host, string image, string[] flags, CancellationToken ct)
    {
        string context = Directory.CreateDirectory(temp.Combine("context")).FullName;
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), $"FROM {host}/debian:bookworm\nCOPY hello.txt /hello.txt\n", ct);
        await File.WriteAllTextAsync(Path.Combine(context, "hello.txt"), "hello\n", ct);
        bool push = !flags.Contains("--output");
        ProcessResult result = await DbuildCli.RunAsync(
            ["build", "--root", temp.Combine("root"), "--progress", "plain", "-t", image, .. push ? (string[])["--push"] : [], .. flags, context], ct,
            new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = SourceDateEpoch }, timeout: TimeSpan.FromMinutes(5));
        result.EnsureSuccess();
    }
}
