using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>
/// COPY --link: an independent layer, planned as if on scratch and keyed without the parent, so it stays cached (same
/// blob) when earlier steps change, while the steps after it still depend on everything before.
/// </summary>
public sealed class LinkCopyTests
{
    private sealed record Built(BuildResult Result, ImageManifest Manifest, ImageConfig Config, ContentStore Store)
    {
        public StepReport Step(string startsWith) => Assert.Single(Result.Steps, s => s.Name.Contains("] " + startsWith, StringComparison.Ordinal));

        public async Task<Dictionary<string, LayerEntry>> LayerAsync(int index, CancellationToken ct)
        {
            var entries = new Dictionary<string, LayerEntry>(StringComparer.Ordinal);
            await using Stream blob = Store.OpenBlob(Manifest.Layers[index].Digest);
            await foreach (LayerEntry entry in LayerReader.ReadEntriesAsync(blob, ct)) { entries[entry.Path] = entry; }
            return entries;
        }
    }

    private static async Task<Built> BuildAsync(TempDirectory temp, string dockerfile, CancellationToken ct)
    {
        var builder = new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root") });
        BuildResult result = await builder.BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = dockerfile,
            Tags = [Reference.Parse("example/link:1")],
            Platform = Platform.LinuxAmd64,
        }, cancellationToken: ct);
        var store = ContentStore.ForStateRoot(temp.Combine("root"));
        ImageManifest manifest = ImageManifest.Parse(await store.ReadBlobBytesAsync(result.Manifest.Digest, cancellationToken: ct));
        ImageConfig config = ImageConfig.Parse(await store.ReadBlobBytesAsync(result.ImageId, cancellationToken: ct));
        return new Built(result, manifest, config, store);
    }

    private static TempDirectory MakeContext()
    {
        var temp = new TempDirectory("dbuild-link-");
        Directory.CreateDirectory(temp.Combine("ctx", "app"));
        Directory.CreateDirectory(temp.Combine("ctx", "tree", "real"));
        File.WriteAllText(temp.Combine("ctx", "first.txt"), "one");
        File.WriteAllText(temp.Combine("ctx", "f.txt"), "f");
        File.WriteAllText(temp.Combine("ctx", "app", "run"), "#!/bin/sh\necho hi\n");
        File.WriteAllText(temp.Combine("ctx", "app", "data.txt"), "data");
        File.WriteAllText(temp.Combine("ctx", "tree", "real", "keep.txt"), "keep");
        File.CreateSymbolicLink(temp.Combine("ctx", "tree", "alias"), "real");
        File.SetUnixFileMode(temp.Combine("ctx", "tree", "real"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return temp;
    }

    private const string ChainDockerfile = """
        FROM scratch
        COPY first.txt /first.txt
        COPY --link app/ /app/
        WORKDIR /app/sub
        """;

    [Fact]
    public async Task Build_EarlierStepChanged_LinkStepCachedWithSameLayerBlob()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        Built first = await BuildAsync(temp, ChainDockerfile, ct);
        await File.WriteAllTextAsync(temp.Combine("ctx", "first.txt"), "changed", ct);

        Built second = await BuildAsync(temp, ChainDockerfile, ct);

        Assert.Equal("first.txt changed", second.Step("COPY first.txt").MissReason);
        Assert.True(second.Step("COPY --link").Cached, second.Step("COPY --link").MissReason);
        Assert.Equal(first.Manifest.Layers[1].Digest, second.Manifest.Layers[1].Digest);
        Assert.Equal(first.Config.RootFs.DiffIds[1], second.Config.RootFs.DiffIds[1]);
        Assert.NotEqual(first.Manifest.Layers[0].Digest, second.Manifest.Layers[0].Digest);
    }

    [Fact]
    public async Task Build_EarlierStepChanged_StepAfterLinkStillMisses()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        await BuildAsync(temp, ChainDockerfile, ct);
        await File.WriteAllTextAsync(temp.Combine("ctx", "first.txt"), "changed", ct);

        Built second = await BuildAsync(temp, ChainDockerfile, ct);

        StepReport workdir = second.Step("WORKDIR");
        Assert.False(workdir.Cached);
        Assert.Equal("previous step changed", workdir.MissReason);
    }

    [Fact]
    public async Task Build_EarlierStepChanged_PlainCopyMisses()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        string dockerfile = ChainDockerfile.Replace("--link ", "", StringComparison.Ordinal);
        await BuildAsync(temp, dockerfile, ct);
        await File.WriteAllTextAsync(temp.Combine("ctx", "first.txt"), "changed", ct);

        Built second = await BuildAsync(temp, dockerfile, ct);

        Assert.False(second.Step("COPY app/").Cached);
        Assert.Equal("previous step changed", second.Step("COPY app/").MissReason);
    }

    [Fact]
    public async Task Build_LinkSourceChanged_MissSaysWhichFile_AndLaterStepFollows()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        await BuildAsync(temp, ChainDockerfile, ct);
        await File.WriteAllTextAsync(temp.Combine("ctx", "app", "data.txt"), "changed", ct);

        Built second = await BuildAsync(temp, ChainDockerfile, ct);

        Assert.True(second.Step("COPY first.txt").Cached);
        Assert.Equal("app/data.txt changed", second.Step("COPY --link").MissReason);
        Assert.Equal("previous step changed", second.Step("WORKDIR").MissReason);
    }

    [Fact]
    public async Task Build_BuiltTwice_AllCachedAndSameImage()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        Built first = await BuildAsync(temp, ChainDockerfile, ct);

        Built second = await BuildAsync(temp, ChainDockerfile, ct);

        Assert.All(second.Result.Steps, s => Assert.True(s.Cached, s.Name));
        Assert.Equal(first.Result.ImageId, second.Result.ImageId);
    }

    [Fact]
    public async Task Build_OtherStageChanged_LinkCopyFromStageDependsOnlyOnThatStage()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        const string dockerfile = """
            FROM scratch AS tools
            COPY f.txt /f.txt
            FROM scratch
            COPY first.txt /first.txt
            COPY --link --from=tools /f.txt /opt/f.txt
            """;
        Built first = await BuildAsync(temp, dockerfile, ct);
        await File.WriteAllTextAsync(temp.Combine("ctx", "first.txt"), "changed", ct);

        Built second = await BuildAsync(temp, dockerfile, ct);

        Assert.True(second.Step("COPY --link").Cached, second.Step("COPY --link").MissReason);
        Assert.Equal(first.Manifest.Layers[1].Digest, second.Manifest.Layers[1].Digest);
    }

    [Fact]
    public async Task Build_LinkIntoSymlinkedDirectory_CreatesDirectoriesInsteadOfFollowing()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        const string dockerfile = """
            FROM scratch
            COPY tree/ /
            COPY --link f.txt /alias/f.txt
            COPY f.txt /alias/g.txt
            """;

        Built built = await BuildAsync(temp, dockerfile, ct);

        Dictionary<string, LayerEntry> linked = await built.LayerAsync(1, ct);
        Assert.Equal(["alias", "alias/f.txt"], linked.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(LayerEntryType.Directory, linked["alias"].Type);
        Assert.Equal((UnixFileMode)0b111_101_101, linked["alias"].Mode);
        Assert.Equal((0, 0), (linked["alias"].Uid, linked["alias"].Gid));
        // The merged stage has a directory there now, so a plain COPY after it writes into it (not into real/).
        Assert.Contains("alias/g.txt", (await built.LayerAsync(2, ct)).Keys);
    }

    [Fact]
    public async Task Build_LinkIntoExistingDirectory_ParentsCreatedFreshWithChownOwner()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        const string dockerfile = """
            FROM scratch
            COPY tree/ /
            COPY --link --chown=1000:2000 f.txt /real/sub/f.txt
            COPY --link --chown=7 f.txt /real/seven.txt
            """;

        Built built = await BuildAsync(temp, dockerfile, ct);

        Dictionary<string, LayerEntry> linked = await built.LayerAsync(1, ct);
        Assert.Equal(["real", "real/sub", "real/sub/f.txt"], linked.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((UnixFileMode)0b111_101_101, linked["real"].Mode); // 0700 in the stage: not read
        Assert.All(linked.Values, e => Assert.Equal((1000, 2000), (e.Uid, e.Gid)));
        Assert.Equal((7, 7), ((await built.LayerAsync(2, ct))["real/seven.txt"].Uid, (await built.LayerAsync(2, ct))["real/seven.txt"].Gid));
    }

    [Fact]
    public async Task Build_LinkDestinationWithoutSlashNamingExistingDirectory_IsAFile()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        const string dockerfile = """
            FROM scratch
            COPY tree/ /
            COPY --link f.txt /real
            """;

        Built built = await BuildAsync(temp, dockerfile, ct);

        LayerEntry entry = Assert.Single((await built.LayerAsync(1, ct)).Values);
        Assert.Equal(("real", LayerEntryType.File), (entry.Path, entry.Type));
    }

    [Fact]
    public async Task Build_LinkRelativeDestination_ResolvedAgainstWorkdir_AndKeyedByIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        Built first = await BuildAsync(temp, "FROM scratch\nWORKDIR /w\nCOPY --link f.txt rel.txt\n", ct);

        Built moved = await BuildAsync(temp, "FROM scratch\nWORKDIR /v\nCOPY --link f.txt rel.txt\n", ct);

        Assert.Contains("w/rel.txt", (await first.LayerAsync(1, ct)).Keys);
        Assert.Equal("instruction changed", moved.Step("COPY --link").MissReason);
    }

    [Fact]
    public async Task Build_LinkWithChownName_FailsAtTheFlagBeforeAnythingRuns()
    {
        using TempDirectory temp = MakeContext();

        DockerfileSyntaxException ex = await Assert.ThrowsAsync<DockerfileSyntaxException>(() =>
            BuildAsync(temp, "FROM scratch\nCOPY --link --chown=app:app f.txt /f.txt\n", TestContext.Current.CancellationToken));

        Assert.Equal((2, 13), (ex.Line, ex.Column));
        Assert.Contains("COPY --link --chown=app:app", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--chown=1000:1000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_LinkWithChmod_IsAPlainCopyLikeBuildKit()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        string dockerfile = ChainDockerfile.Replace("--link", "--link --chmod=0640", StringComparison.Ordinal);
        await BuildAsync(temp, dockerfile, ct);
        await File.WriteAllTextAsync(temp.Combine("ctx", "first.txt"), "changed", ct);

        Built second = await BuildAsync(temp, dockerfile, ct);

        Assert.Equal("previous step changed", second.Step("COPY --link").MissReason);
    }
}
