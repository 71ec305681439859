using System.Text.Json;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// COPY/ADD --link against BuildKit. The daemon's frontend (20.10, BuildKit 0.8) predates --link and a newer one cannot
/// be pulled offline, so BuildKit builds the same Dockerfile with "--link" removed, and the trees must be equal except
/// where --link is documented to differ (BuildKit ≥0.10 copies onto scratch and merges the layer on top): parent
/// directories of the destination are created afresh (0755, root or the --chown owner) instead of keeping the stage's,
/// and a symlink in the destination path is replaced by a directory instead of being followed.
/// </summary>
public sealed class LinkBuildKitTests
{
    [Fact]
    public async Task BuildLink_CopyLinkContext_MatchesBuildKitWithoutLink_ExceptDocumentedDifferences()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-link-");
        string context = BuildEnvironment.Context("copy-link");
        string withoutLink = temp.Combine("Dockerfile.nolink");
        string dockerfile = await File.ReadAllTextAsync(Path.Combine(context, "Dockerfile"), ct);
        await File.WriteAllTextAsync(withoutLink, dockerfile.Replace(" --link", "", StringComparison.Ordinal), ct);
        const string tag = "dbuild-link/copy-link:latest";

        (await env.DockerAsync(["build", "--network", "none", "--build-arg", "BASE=" + env.BaseImage, "-f", withoutLink, "-t", tag, context], ct)).EnsureSuccess();
        (await env.DockerAsync(["save", "-o", temp.Combine("buildkit.tar"), tag], ct)).EnsureSuccess();
        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", "--build-arg", "BASE=" + env.BaseImage,
            "-t", tag, "-o", "type=docker,dest=" + temp.Combine("dbuild.tar"), context], ct)).EnsureSuccess();
        ImageSummary buildkit = await ImageSummary.LoadAsync(temp.Combine("buildkit.tar"), temp.Combine("bk"), ct);
        ImageSummary dbuild = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);

        var expected = new SortedDictionary<string, string>(buildkit.Files.ToDictionary(), StringComparer.Ordinal);
        // COPY --link a.txt /tmp/linked.txt: /tmp is made fresh in the link layer, so the base's 1777 becomes 0755.
        Intended(expected, "tmp", "dir 1777 0:0 0 ", "dir 755 0:0 0 ");
        // COPY --link --chown=1000:1000 a.txt /link/late.txt: the existing /link gets the --chown owner.
        Intended(expected, "link", "dir 755 0:0 0 ", "dir 755 1000:1000 0 ");
        // COPY --link a.txt /opt/alias/linked.txt: the symlink opt/alias -> real is not followed but replaced by a directory.
        Intended(expected, "opt/alias", "symlink 777 0:0 0  -> real", "dir 755 0:0 0 ");
        Assert.True(expected.Remove("opt/real/linked.txt", out string? linked), "BuildKit without --link follows opt/alias into opt/real");
        expected["opt/alias/linked.txt"] = linked;
        // Everything else, including --chmod (BuildKit keeps a plain copy then) and /owned keeping its owner, is the same.
        IReadOnlyList<string> differences = ImageSummary.Differences(buildkit with { Files = expected }, dbuild);

        Assert.True(differences.Count == 0, "dbuild's --link build differs from BuildKit's plain build beyond the documented places:\n" + string.Join('\n', differences.Take(40)));
    }

    private static void Intended(SortedDictionary<string, string> files, string path, string buildkitWithoutLink, string withLink)
    {
        Assert.True(files.TryGetValue(path, out string? actual) && actual == buildkitWithoutLink,
            $"BuildKit without --link: expected /{path} to be '{buildkitWithoutLink}', got '{actual}'");
        files[path] = withLink;
    }

    [Fact]
    public async Task Rebuild_BaseImageChanged_LinkStepsCachedWithSameLayerBlobs()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-link-rebase-");
        string movingBase = $"{env.RegistryHost}/link/base:{Guid.NewGuid():N}";
        string baseContext = temp.Combine("base");
        Directory.CreateDirectory(baseContext);
        string context = temp.Combine("ctx");
        Directory.CreateDirectory(Path.Combine(context, "app"));
        await File.WriteAllTextAsync(Path.Combine(context, "app", "main.sh"), "echo main\n", ct);
        await File.WriteAllTextAsync(Path.Combine(context, "conf.txt"), "conf\n", ct);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"),
            "ARG BASE\nFROM ${BASE}\nCOPY --link app/ /app/\nCOPY conf.txt /etc/app.conf\nCOPY --link conf.txt /app/conf.txt\n", ct);

        await PushBaseAsync(env, temp, baseContext, movingBase, generation: 1, ct);
        (_, List<string> before) = await BuildAsync(temp, context, movingBase, ct);
        await PushBaseAsync(env, temp, baseContext, movingBase, generation: 2, ct);
        (List<(string Name, bool Cached, string? Reason)> steps, List<string> after) = await BuildAsync(temp, context, movingBase, ct);

        Assert.Equal(3, steps.Count);
        Assert.True(steps[0].Cached, steps[0].Reason);          // COPY --link app/ /app/
        Assert.Equal("base image digest changed", steps[1].Reason); // the plain COPY reads the new base
        Assert.True(steps[2].Cached, steps[2].Reason);          // COPY --link after a changed step
        Assert.NotEqual(before[..^3], after[..^3]);             // the base's own layer changed
        Assert.Equal(before[^3], after[^3]);                    // the link layers are the same blobs
        Assert.Equal(before[^1], after[^1]);
    }

    private static async Task PushBaseAsync(BuildEnvironment env, TempDirectory temp, string baseContext, string reference, int generation, CancellationToken ct)
    {
        await File.WriteAllTextAsync(Path.Combine(baseContext, "gen.txt"), $"generation {generation}\n", ct);
        await File.WriteAllTextAsync(Path.Combine(baseContext, "Dockerfile"), "ARG BASE\nFROM ${BASE}\nCOPY gen.txt /etc/gen.txt\n", ct);
        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("baseroot"), "--build-arg", "BASE=" + env.BaseImage, "-t", reference, "--push", baseContext], ct))
            .EnsureSuccess();
    }

    /// <summary>Builds with --pull, returning the steps (from --metadata-file) and the exported image's layer blob names.</summary>
    private static async Task<(List<(string Name, bool Cached, string? Reason)> Steps, List<string> Layers)> BuildAsync(TempDirectory temp, string context,
        string baseImage, CancellationToken ct)
    {
        string meta = temp.Combine($"meta-{Guid.NewGuid():N}.json");
        string tar = temp.Combine($"image-{Guid.NewGuid():N}.tar");
        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", "--pull", "--build-arg", "BASE=" + baseImage,
            "--metadata-file", meta, "-o", "type=docker,dest=" + tar, context], ct)).EnsureSuccess();
        using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(meta, ct));
        List<(string, bool, string?)> steps = [.. json.RootElement.GetProperty("dbuild.steps").EnumerateArray().Select(s => (
            s.GetProperty("name").GetString()!,
            s.GetProperty("cached").GetBoolean(),
            s.GetProperty("reason").ValueKind == JsonValueKind.String ? s.GetProperty("reason").GetString() : null))];
        string scratch = temp.Combine($"unpacked-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        await System.Formats.Tar.TarFile.ExtractToDirectoryAsync(tar, scratch, overwriteFiles: true, ct);
        using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(scratch, "manifest.json"), ct));
        return (steps, [.. manifest.RootElement[0].GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!)]);
    }
}
