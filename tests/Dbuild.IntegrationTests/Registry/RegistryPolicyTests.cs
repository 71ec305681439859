using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// <c>policies.*</c> end to end: a real <c>dbuild registry serve</c> with real clients. docker 20.10 is refused a move
/// of an immutable tag and shows the rule; a GC pass applies retention; skopeo's push over quota leaves the storage
/// byte for byte as it was.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryPolicyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Docker_MovingAnImmutableTag_IsDeniedNamingTheRule_RePushingTheSameImageIsFine()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        string config = work.Combine("docker-config");
        Directory.CreateDirectory(config);
        (string other, _, _, _) = TestImages.MakeRandomImageLayout(work.Combine("other"), "1", 2048);
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct,
            extra: "policies:\n  immutable:\n    - {repository: \"prod/**\", tags: v*}\n");
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/seed/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{other}:1", $"docker://{registry.Host}/seed/other:1");
        string release = $"{registry.Host}/prod/app:v1";
        string[] images = [$"{registry.Host}/seed/busybox:1", $"{registry.Host}/seed/other:1", release];
        try
        {
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", images[0])).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", images[1])).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", images[0], release)).EnsureSuccess();
            ProcessResult first = (await Tools.DockerAsync(dockerHost, config, null, Ct, "push", release)).EnsureSuccess();
            string digest = System.Text.RegularExpressions.Regex.Match(first.StandardOutput, "digest: (sha256:[0-9a-f]{64})").Groups[1].Value;
            Assert.False(string.IsNullOrEmpty(digest), first.StandardOutput);
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "push", release)).EnsureSuccess(); // the same digest again

            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", images[1], release)).EnsureSuccess();
            ProcessResult moved = await Tools.DockerAsync(dockerHost, config, null, Ct, "push", release);
            string output = moved.StandardOutput + moved.StandardError;
            Assert.NotEqual(0, moved.ExitCode);
            Assert.Contains("denied: tag v1 of prod/app is immutable by policies.immutable[0] (repository prod/**, tags v*)", output, StringComparison.Ordinal);

            using var client = new HttpClient();
            (_, string served, _) = await Tools.GetManifestAsync(client, registry.BaseUrl, "prod/app", "v1", Ct);
            Assert.Equal(digest, served);
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, config, null, CancellationToken.None, ["rmi", "-f", .. images]);
        }
    }

    [Fact]
    public async Task Skopeo_RetentionIsAppliedByTheGcPass_OldTagsGoWithTheirBlobs_KeptOnesPull()
    {
        using var work = new TempDirectory();
        int port = RegistryServer.FreePort();
        string configPath = RegistryServer.WriteConfig(work.Path, work.Combine("data"), port,
            extra: "policies:\n  retention:\n    - {repository: \"ret/**\", keeplast: 1, keep: [\"keep-*\"]}\n");
        // Online GC: the first pass 15 s after start, when every push below is done; grace 3 s.
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("storage:\n", "storage:\n  maintenance:\n    gc: {enabled: true, interval: 15s, grace: 3s}\n", StringComparison.Ordinal));
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(configPath, port, work.Combine("data"), Ct);
        var images = new Dictionary<string, (string Layout, Digest Manifest, Digest Layer, long Bytes)>();
        foreach (string tag in new[] { "a1", "keep-me", "a2", "a3" }) // oldest first; the tag links' times order them
        {
            images[tag] = TestImages.MakeRandomImageLayout(work.Combine(tag), tag, 4096);
            await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{images[tag].Layout}:{tag}", $"docker://{registry.Host}/ret/app:{tag}");
            await Task.Delay(50, Ct);
        }
        using var client = new HttpClient();
        string tags = "";
        for (int i = 0; i < 120 && (tags = await client.GetStringAsync($"{registry.BaseUrl}/v2/ret/app/tags/list", Ct)).Contains("\"a1\"", StringComparison.Ordinal); i++)
        {
            await Task.Delay(500, Ct);
        }
        Assert.Equal("[\"a3\",\"keep-me\"]", JsonNode.Parse(tags)!["tags"]!.ToJsonString());
        for (int i = 0; i < 120 && (File.Exists(BlobData(registry, images["a1"].Layer)) || File.Exists(BlobData(registry, images["a2"].Layer))); i++)
        {
            await Task.Delay(500, Ct);
        }
        foreach (string removed in new[] { "a1", "a2" })
        {
            Assert.False(File.Exists(BlobData(registry, images[removed].Layer)), $"{removed}'s layer was not freed\n{registry.Output}");
            Assert.False(File.Exists(BlobData(registry, images[removed].Manifest)), $"{removed}'s manifest was not freed");
        }
        foreach (string kept in new[] { "a3", "keep-me" })
        {
            await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{registry.Host}/ret/app:{kept}", $"oci:{work.Combine("back")}:{kept}");
            Assert.True(File.Exists(work.Combine("back", "blobs", "sha256", images[kept].Layer.Encoded)));
        }
        Assert.Contains("Retention: removed tag ret/app:a1", registry.Output, StringComparison.Ordinal);
        Assert.Contains("Retention: removed tag ret/app:a2", registry.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Skopeo_PushOverTheNamespaceQuota_IsRefused_AndTheStorageIsByteIdentical()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        long busyboxBytes = LayoutBytes(busybox);
        (string big, _, _, long bigBytes) = TestImages.MakeRandomImageLayout(work.Combine("big"), "1", 8192);
        Assert.True(bigBytes > 1000);
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct,
            extra: $"policies:\n  quota:\n    - {{repository: \"team-q/**\", size: {busyboxBytes + 1000}}}\n");

        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/team-q/base:1"); // under quota
        string before = HashTree(registry.StorageRoot);
        ProcessResult refused = await ProcessRunner.RunAsync(Prerequisites.RequireTool("skopeo", "skopeo"),
            ["--insecure-policy", "copy", "--dest-tls-verify=false", $"oci:{big}:1", $"docker://{registry.Host}/team-q/app:1"], Ct, timeout: TimeSpan.FromMinutes(5));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("quota exceeded for team-q/app: policies.quota[0] (team-q/**)", refused.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, HashTree(registry.StorageRoot));

        // The same image outside the namespace is no one's quota.
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{big}:1", $"docker://{registry.Host}/elsewhere/app:1");
    }

    [Fact]
    public async Task Serve_BadPolicy_StopsStartupWithOneLineNamingTheKeyAndEntry()
    {
        using var work = new TempDirectory();
        string config = work.Combine("bad.yml");
        await File.WriteAllTextAsync(config, "version: 0.1\npolicies:\n  quota:\n    - {repository: ok, size: 1GiB}\n    - {repository: \"team-*/**\", size: lots}\n", Ct);
        ProcessResult result = await ProcessRunner.RunAsync("dotnet", [RegistryServer.DbuildDll, "registry", "serve", "--config", config], Ct, timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("policies.quota[1].size: 'lots' is not a size", line, StringComparison.Ordinal);
    }

    private static string BlobData(RegistryServer registry, Digest digest) =>
        Path.Combine(registry.StorageRoot, "docker", "registry", "v2", "blobs", "sha256", digest.Encoded[..2], digest.Encoded, "data");

    /// <summary>The bytes of the layout's tagged image: its manifest, config and layers.</summary>
    private static long LayoutBytes(string layout)
    {
        JsonNode index = JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "index.json")))!;
        string manifestDigest = index["manifests"]![0]!["digest"]!.GetValue<string>();
        JsonNode manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "blobs", "sha256", manifestDigest[7..])))!;
        return index["manifests"]![0]!["size"]!.GetValue<long>() + manifest["config"]!["size"]!.GetValue<long>()
            + manifest["layers"]!.AsArray().Sum(l => l!["size"]!.GetValue<long>());
    }

    /// <summary>Every file under the storage root: its path and the SHA-256 of its content, as one hash.</summary>
    private static string HashTree(string root)
    {
        var lines = new StringBuilder();
        foreach (string file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            lines.Append(Path.GetRelativePath(root, file)).Append(' ').AppendLine(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file))));
        }
        return lines.ToString();
    }
}
