using System.Collections.Concurrent;
using System.Formats.Tar;
using Dbuild.Oci;
using Dbuild.Runtime;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>Hermetic multi-platform builds (FROM scratch, or a multi-platform base made the same way): the index, per-platform content, outputs.</summary>
public sealed class MultiPlatformBuildTests
{
    private const string ArchDockerfile = "FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}.txt /arch.txt\nENV ARCH=$TARGETARCH\n";

    // Config digests the single-platform build of ArchDockerfile gave before multi-platform builds existed
    // (SOURCE_DATE_EPOCH 1700000000); a config holds diff_ids, not compressed digests, so these do not depend on gzip.
    private const string Amd64ConfigBefore = "sha256:53b5d144f7bee1c6549a946399bfc68f69b818b5eb2281dbe2cf838e1bc6b0b2";
    private const string Arm64ConfigBefore = "sha256:a6a0006f7aab9350852204374e42df45133fa78f0e4eae36939112ad1a11b9db";

    private static readonly Platform[] Both = [Platform.LinuxAmd64, Platform.LinuxArm64];

    private static TempDirectory MakeContext()
    {
        var temp = new TempDirectory("dbuild-mp-");
        Directory.CreateDirectory(temp.Combine("ctx"));
        File.WriteAllText(temp.Combine("ctx", "amd64.txt"), "amd64 content\n");
        File.WriteAllText(temp.Combine("ctx", "arm64.txt"), "arm64 content\n");
        return temp;
    }

    private static Task<BuildResult> BuildAsync(TempDirectory temp, string dockerfile, Func<BuildRequest, BuildRequest> shape, IStepExecutor? executor = null,
        IBuildProgress? progress = null) =>
        new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root"), Executor = executor }).BuildAsync(shape(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = dockerfile,
            Tags = [Reference.Parse("example/app:1")],
            SourceDateEpoch = DateTimeOffset.FromUnixTimeSeconds(1700000000),
        }), progress, TestContext.Current.CancellationToken);

    private static ContentStore Store(TempDirectory temp) => ContentStore.ForStateRoot(temp.Combine("root"));

    private static async Task<T> ReadAsync<T>(ContentStore store, Digest digest, Func<byte[], T> parse) =>
        parse(await store.ReadBlobBytesAsync(digest, cancellationToken: TestContext.Current.CancellationToken));

    [Fact]
    public async Task Rebuild_TwoPlatforms_EachMissSaysWhatChangedForItsOwnPlatform()
    {
        using TempDirectory temp = MakeContext();
        await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both });
        await BuildAsync(temp, ArchDockerfile, r => r with { Platform = Platform.LinuxAmd64 }); // amd64's history is the newest
        File.WriteAllText(temp.Combine("ctx", "arm64.txt"), "arm64 content, changed\n");

        BuildResult result = await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both });

        StepReport copy = Assert.Single(result.Steps, s => !s.Cached);
        Assert.Contains("linux/arm64", copy.Name, StringComparison.Ordinal);
        Assert.Equal("arm64.txt changed", copy.MissReason); // not "build-arg TARGETARCH changed" from the other platform's history
    }

    [Fact]
    public async Task Build_TwoPlatforms_ManifestListWithOneImagePerPlatform()
    {
        using TempDirectory temp = MakeContext();

        BuildResult result = await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both });

        ContentStore store = Store(temp);
        ImageIndex index = await ReadAsync(store, result.Manifest.Digest, b => ImageIndex.Parse(b));
        Assert.Equal(MediaTypes.DockerManifestList, result.Manifest.MediaType);
        Assert.Equal(MediaTypes.DockerManifestList, index.MediaType);
        Assert.Equal(["linux/amd64", "linux/arm64"], index.Manifests.Select(m => m.Platform?.ToString()));
        Assert.All(index.Manifests, m => Assert.Equal(MediaTypes.DockerManifest, m.MediaType));
        Assert.Equal(result.Manifest.Digest, result.ImageId); // the iidfile of a multi-platform build names the index
        Assert.Equal(result.Manifest.Digest, (await store.ResolveAsync("docker.io/example/app:1", TestContext.Current.CancellationToken))?.Digest);
        foreach (Descriptor child in index.Manifests)
        {
            ImageManifest manifest = await ReadAsync(store, child.Digest, b => ImageManifest.Parse(b));
            ImageConfig config = await ReadAsync(store, manifest.Config.Digest, b => ImageConfig.Parse(b));
            Assert.Equal(child.Platform!.Architecture, config.Architecture);
            Assert.Equal("linux", config.Os);
            Assert.Contains($"ARCH={config.Architecture}", config.Config!.Env!);
        }
    }

    [Fact]
    public async Task Build_TwoPlatforms_TargetArchChoosesEachImagesFiles()
    {
        using TempDirectory temp = MakeContext();

        BuildResult result = await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both });

        ContentStore store = Store(temp);
        var contents = new Dictionary<string, string>();
        foreach (PlatformImage image in result.Images)
        {
            ImageManifest manifest = await ReadAsync(store, image.Manifest.Digest, b => ImageManifest.Parse(b));
            contents[image.Platform.Architecture] = await ReadFileFromLayerAsync(store, manifest.Layers.Single().Digest, "arch.txt");
        }
        Assert.Equal("amd64 content\n", contents["amd64"]);
        Assert.Equal("arm64 content\n", contents["arm64"]);
    }

    [Fact]
    public async Task Build_TwoPlatformsOciMediaTypes_OciIndexOfOciManifests()
    {
        using TempDirectory temp = MakeContext();

        BuildResult result = await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both, OciMediaTypes = true });

        ImageIndex index = await ReadAsync(Store(temp), result.Manifest.Digest, b => ImageIndex.Parse(b));
        Assert.Equal(MediaTypes.OciIndex, index.MediaType);
        Assert.All(index.Manifests, m => Assert.Equal(MediaTypes.OciManifest, m.MediaType));
        Assert.Equal(2, index.Manifests.Count);
    }

    [Theory]
    [InlineData("amd64", Amd64ConfigBefore)]
    [InlineData("arm64", Arm64ConfigBefore)]
    public async Task Build_OnePlatform_SameImageAsBeforeWhicheverWayItIsAsked(string architecture, string configBefore)
    {
        using TempDirectory temp = MakeContext();
        var platform = new Platform("linux", architecture);

        BuildResult single = await BuildAsync(temp, ArchDockerfile, r => r with { Platform = platform });
        BuildResult listed = await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = [platform] });

        Assert.Equal(configBefore, single.ImageId.ToString());
        Assert.Equal(MediaTypes.DockerManifest, single.Manifest.MediaType);
        Assert.Equal(single.Manifest, listed.Manifest);
        Assert.Empty(listed.Images);
    }

    [Fact]
    public async Task Build_BuildPlatformStage_RunsOnceOnTheBuildPlatformsBase()
    {
        using TempDirectory temp = MakeContext();
        await BuildAsync(temp, "FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}.txt /base.txt\n", r => r with { Platforms = Both, Tags = [Reference.Parse("example/base:1")] });
        var executor = new RecordingExecutor();

        await BuildAsync(temp, """
            FROM --platform=$BUILDPLATFORM example/base:1 AS tools
            RUN make-tool
            FROM example/base:1
            ARG TARGETARCH
            COPY --from=tools /base.txt /tool.txt
            RUN echo $TARGETARCH
            """, r => r with { Platforms = Both }, executor);

        Digest buildBase = await BaseDiffIdAsync(temp, Platform.Current);
        RecordingExecutor.Step tool = Assert.Single(executor.Steps, s => s.Command.EndsWith("make-tool", StringComparison.Ordinal));
        Assert.Equal([buildBase], tool.Layers);
        foreach (Platform target in Both)
        {
            RecordingExecutor.Step echo = Assert.Single(executor.Steps, s => s.Env.Contains($"TARGETARCH={target.Architecture}"));
            Assert.Equal(await BaseDiffIdAsync(temp, target), echo.Layers[0]); // the final stage's base is the target's
        }
    }

    [Fact]
    public async Task Build_TwoPlatforms_VerticesNamedWithTheirPlatform()
    {
        using TempDirectory temp = MakeContext();
        var events = new ConcurrentQueue<ProgressEvent>();

        await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both }, progress: new Recorder(events));

        Assert.Contains(events, e => e.Kind == ProgressKind.Started && e.Name.StartsWith("[linux/amd64 2/2] COPY ${TARGETARCH}.txt", StringComparison.Ordinal));
        Assert.Contains(events, e => e.Kind == ProgressKind.Started && e.Name.StartsWith("[linux/arm64 2/2] COPY ${TARGETARCH}.txt", StringComparison.Ordinal));
        var started = events.Where(e => e.Kind == ProgressKind.Started).Select(e => e.Vertex).ToList();
        Assert.Equal(started.Count, started.Distinct().Count()); // one numbering across the platforms
    }

    [Fact]
    public async Task Build_TwoPlatformsLocalOutput_OneDirectoryPerPlatform()
    {
        using TempDirectory temp = MakeContext();

        await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both, Outputs = [BuildOutput.Parse("type=local,dest=" + temp.Combine("out"))] });

        Assert.Equal("amd64 content\n", File.ReadAllText(temp.Combine("out", "linux_amd64", "arch.txt")));
        Assert.Equal("arm64 content\n", File.ReadAllText(temp.Combine("out", "linux_arm64", "arch.txt")));
    }

    [Fact]
    public async Task Build_TwoPlatformsTarOutput_OneDirectoryPerPlatform()
    {
        using TempDirectory temp = MakeContext();

        await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both, Outputs = [BuildOutput.Parse("type=tar,dest=" + temp.Combine("out.tar"))] });

        await using FileStream tar = File.OpenRead(temp.Combine("out.tar"));
        var names = new List<string>();
        await using var reader = new TarReader(tar);
        while (await reader.GetNextEntryAsync(cancellationToken: TestContext.Current.CancellationToken) is { } entry) { names.Add(entry.Name.TrimStart('.', '/')); }
        Assert.Contains("linux_amd64/arch.txt", names);
        Assert.Contains("linux_arm64/arch.txt", names);
    }

    [Fact]
    public async Task Build_TwoPlatformsOciOutput_LayoutPointsAtTheIndex()
    {
        using TempDirectory temp = MakeContext();

        BuildResult result = await BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both, Outputs = [BuildOutput.Parse("type=oci,dest=" + temp.Combine("oci.tar"))] });

        Directory.CreateDirectory(temp.Combine("layout"));
        await TarFile.ExtractToDirectoryAsync(temp.Combine("oci.tar"), temp.Combine("layout"), overwriteFiles: false, TestContext.Current.CancellationToken);
        ContentStore layout = ContentStore.OpenExisting(temp.Combine("layout"));
        Descriptor top = Assert.Single((await layout.ReadIndexAsync(TestContext.Current.CancellationToken)).Manifests);
        ImageIndex index = await ReadAsync(layout, top.Digest, b => ImageIndex.Parse(b));
        Assert.Equal(MediaTypes.OciIndex, top.MediaType); // type=oci defaults to OCI media types, as buildx's does
        Assert.Equal(["linux/amd64", "linux/arm64"], index.Manifests.Select(m => m.Platform?.ToString()));
        Assert.NotEqual(result.Manifest.Digest, top.Digest); // the store's copy is a Docker manifest list
        foreach (Descriptor child in index.Manifests)
        {
            ImageManifest manifest = await ReadAsync(layout, child.Digest, b => ImageManifest.Parse(b));
            Assert.All(manifest.Layers.Prepend(manifest.Config), b => Assert.True(layout.Contains(b.Digest), $"{b.Digest} missing from the layout"));
        }
    }

    [Fact]
    public async Task Build_TwoPlatformsDockerOutput_RefusedLikeBuildx()
    {
        using TempDirectory temp = MakeContext();

        BuildException ex = await Assert.ThrowsAsync<BuildException>(() =>
            BuildAsync(temp, ArchDockerfile, r => r with { Platforms = Both, Outputs = [BuildOutput.Parse("type=docker,dest=" + temp.Combine("d.tar"))] }));

        Assert.StartsWith("docker exporter does not currently support exporting manifest lists", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("type=local,dest=out", true)]
    [InlineData("type=local,dest=out,platform-split=false", false)]
    public void ParseOutput_PlatformSplit_DefaultsToTrue(string value, bool split) => Assert.Equal(split, BuildOutput.Parse(value).PlatformSplit);

    private static async Task<Digest> BaseDiffIdAsync(TempDirectory temp, Platform platform)
    {
        ContentStore store = Store(temp);
        Descriptor top = (await store.ResolveAsync("docker.io/example/base:1", TestContext.Current.CancellationToken))!;
        Descriptor child = platform.PickBest((await ReadAsync(store, top.Digest, b => ImageIndex.Parse(b))).Manifests)!;
        ImageManifest manifest = await ReadAsync(store, child.Digest, b => ImageManifest.Parse(b));
        return (await ReadAsync(store, manifest.Config.Digest, b => ImageConfig.Parse(b))).RootFs.DiffIds.Single();
    }

    private static async Task<string> ReadFileFromLayerAsync(ContentStore store, Digest layer, string name)
    {
        await using Stream blob = store.OpenBlob(layer);
        await using Stream tar = await Dbuild.Oci.Layers.LayerReader.OpenDecompressedAsync(blob, cancellationToken: TestContext.Current.CancellationToken);
        await using var reader = new TarReader(tar);
        while (await reader.GetNextEntryAsync(cancellationToken: TestContext.Current.CancellationToken) is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') == name && entry.DataStream is { } data)
            {
                using var text = new StreamReader(data);
                return await text.ReadToEndAsync(TestContext.Current.CancellationToken);
            }
        }
        throw new InvalidDataException($"{name} is not in layer {layer}");
    }

    private sealed class Recorder(ConcurrentQueue<ProgressEvent> events) : IBuildProgress
    {
        public void Report(ProgressEvent progressEvent) => events.Enqueue(progressEvent);
    }

    /// <summary>Records each RUN (command, env, parent layers) and reports that it changed nothing.</summary>
    private sealed class RecordingExecutor : IStepExecutor
    {
        public sealed record Step(string Command, IReadOnlyList<string> Env, IReadOnlyList<Digest> Layers);

        private readonly ConcurrentQueue<Step> _steps = new();

        public IReadOnlyList<Step> Steps => [.. _steps];

        public Task<StepResult> RunAsync(StepRequest request, CancellationToken cancellationToken = default)
        {
            _steps.Enqueue(new Step(string.Join(' ', request.Args), request.Env, [.. request.Layers.Select(l => l.DiffId)]));
            return Task.FromResult(new StepResult());
        }

        public Task ExportAsync(IReadOnlyList<LayerSource> layers, string destinationDirectory, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("these tests export no filesystem through the executor");
    }
}
