using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Store;

/// <summary>
/// <c>image prune</c> against docker's on the shared dockerd, always narrowed to this test's label (so docker never prunes
/// another test's images): the prompt, the dangling-only and <c>-a</c> prunes, and the <c>until</c> filter.
/// </summary>
public sealed class ImagePruneTests
{
    private static async Task<(string DbuildOld, string DbuildNew, string DockerOld, string DockerNew)> TwoBuildsAsync(StoreScenario s, CancellationToken ct)
    {
        // The RUN lines name the test: BuildKit 0.8 dates an image by when its last layer was first made, so a RUN cached
        // from an earlier run on this dockerd would make docker's image look hours old to the until filter.
        string first = await s.ContextAsync("one", $"RUN echo one {s.Prefix} > /f", ct);
        string second = await s.ContextAsync("two", $"RUN echo two {s.Prefix} > /f", ct);
        string tag = s.Prefix + "/app:1";
        return (await s.DbuildBuildAsync(first, tag, ct), await s.DbuildBuildAsync(second, tag, ct), await s.DockerBuildAsync(first, tag, ct), await s.DockerBuildAsync(second, tag, ct));
    }

    [Fact]
    public async Task Prune_NoForce_PromptsAndDeclinedRemovesNothing_LikeDocker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        (string dbuildOld, _, _, _) = await TwoBuildsAsync(s, ct);

        foreach (string[] args in (string[][])[["image", "prune", "--filter", "label=" + s.Label], ["image", "prune", "-a", "--filter", "label=" + s.Label]])
        {
            ProcessResult dbuild = (await s.DbuildAsync(args, ct, standardInput: "")).EnsureSuccess();
            ProcessResult docker = (await s.DockerAsync(args, ct, standardInput: "")).EnsureSuccess();
            Assert.Equal(docker.StandardOutput, dbuild.StandardOutput);
        }
        Assert.Contains(await s.DbuildImagesAsync(ct), r => dbuildOld.Contains(r.Id, StringComparison.Ordinal));
        Assert.Equal(2, (await s.DockerImagesAsync(ct)).Count);
    }

    [Fact]
    public async Task Prune_Dangling_ThenAll_SameLinesAsDocker_BlobsGo()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        (string dbuildOld, string dbuildNew, string dockerOld, string dockerNew) = await TwoBuildsAsync(s, ct);
        string oldManifest = await ManifestDigestAsync(s, dbuildOld, ct);

        ProcessResult dbuildDangling = (await s.DbuildAsync(["image", "prune", "-f", "--filter", "label=" + s.Label], ct)).EnsureSuccess();
        ProcessResult dockerDangling = (await s.DockerAsync(["image", "prune", "-f", "--filter", "label=" + s.Label], ct)).EnsureSuccess();

        Assert.Equal(["Deleted Images:", "deleted: sha256:OLD", "", "Total reclaimed space: SIZE"], Shape(dbuildDangling.StandardOutput, dbuildOld, dbuildNew));
        Assert.Equal(["Deleted Images:", "deleted: sha256:OLD", "", "Total reclaimed space: SIZE"], Shape(dockerDangling.StandardOutput, dockerOld, dockerNew));
        Assert.False(File.Exists(Path.Combine(s.Root, "content", "blobs", "sha256", oldManifest[7..])), "the dangling image's manifest blob is deleted");
        Assert.Equal([(s.Prefix + "/app", "1")], (await s.DbuildImagesAsync(ct)).Where(r => r.Repository.StartsWith(s.Prefix, StringComparison.Ordinal) || r.Repository == "<none>")
            .Select(r => (r.Repository, r.Tag)));

        ProcessResult dbuildAll = (await s.DbuildAsync(["image", "prune", "-a", "-f", "--filter", "label=" + s.Label], ct)).EnsureSuccess();
        ProcessResult dockerAll = (await s.DockerAsync(["image", "prune", "-a", "-f", "--filter", "label=" + s.Label], ct)).EnsureSuccess();

        string[] expected = ["Deleted Images:", $"untagged: {s.Prefix}/app:1", "deleted: sha256:NEW", "", "Total reclaimed space: SIZE"];
        Assert.Equal(expected, Shape(dbuildAll.StandardOutput, dbuildOld, dbuildNew));
        Assert.Equal(expected, Shape(dockerAll.StandardOutput, dockerOld, dockerNew));
        Assert.Empty(await s.DockerImagesAsync(ct));
        Assert.DoesNotContain(await s.DbuildImagesAsync(ct), r => r.Repository.StartsWith(s.Prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Prune_UntilAnHourAgo_KeepsNewImages_BadFilterNamed()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        await TwoBuildsAsync(s, ct);
        string[] args = ["image", "prune", "-a", "-f", "--filter", "label=" + s.Label, "--filter", "until=1h"];

        ProcessResult dbuild = (await s.DbuildAsync(args, ct)).EnsureSuccess();
        ProcessResult docker = (await s.DockerAsync(args, ct)).EnsureSuccess();
        ProcessResult bad = await s.DbuildAsync(["image", "prune", "-f", "--filter", "bogus=1"], ct);

        Assert.Equal(docker.StandardOutput, dbuild.StandardOutput);
        Assert.Equal("Total reclaimed space: 0B\n", dbuild.StandardOutput);
        Assert.Equal(2, (await s.DbuildImagesAsync(ct)).Count(r => r.Repository.StartsWith(s.Prefix, StringComparison.Ordinal) || r.Repository == "<none>"));
        Assert.Equal((2, "error: Invalid filter 'bogus'\n"), (bad.ExitCode, bad.StandardError));
    }

    /// <summary>The lines with the two images' IDs as OLD and NEW, other IDs (docker's layers) dropped, and the size as SIZE.</summary>
    private static List<string> Shape(string output, string oldId, string newId) =>
        [.. StoreScenario.Normalise(output, new Dictionary<string, string> { [oldId] = "OLD", [newId] = "NEW" }).TrimEnd('\n').Split('\n')
            .Where(l => !l.Contains("<other>", StringComparison.Ordinal))
            .Select(l => l.StartsWith("Total reclaimed space: ", StringComparison.Ordinal) ? "Total reclaimed space: SIZE" : l)];

    /// <summary>The manifest of a stored image (by its ID) from the store's index: docker's inspect JSON has no such field.</summary>
    private static async Task<string> ManifestDigestAsync(StoreScenario s, string id, CancellationToken ct)
    {
        string hex = id.StartsWith("sha256:", StringComparison.Ordinal) ? id[7..] : id;
        string content = Path.Combine(s.Root, "content");
        using var index = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(content, "index.json"), ct));
        foreach (System.Text.Json.JsonElement entry in index.RootElement.GetProperty("manifests").EnumerateArray())
        {
            string digest = entry.GetProperty("digest").GetString()!;
            using var manifest = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(content, "blobs", "sha256", digest[7..]), ct));
            if (manifest.RootElement.TryGetProperty("config", out System.Text.Json.JsonElement config)
                && config.GetProperty("digest").GetString()![7..].StartsWith(hex, StringComparison.Ordinal)) { return digest; }
        }
        throw new InvalidOperationException($"no manifest of image {id} in {content}/index.json");
    }
}
