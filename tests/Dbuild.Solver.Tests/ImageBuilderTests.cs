using System.Globalization;
using Dbuild.Oci;
using Microsoft.Extensions.Time.Testing;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>Hermetic builds FROM scratch (no registry, no runtime): config, history, cache hits and miss reasons.</summary>
public sealed class ImageBuilderTests
{
    private const string Dockerfile = """
        FROM scratch
        ARG VERSION=1
        COPY app/ /app/
        ENV VERSION=${VERSION}
        WORKDIR /app
        LABEL version=${VERSION}
        ENTRYPOINT ["/app/run"]
        """;

    private static async Task<(BuildResult Result, ImageConfig Config)> BuildAsync(TempDirectory temp, CancellationToken ct, IReadOnlyDictionary<string, string>? args = null)
    {
        var builder = new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root") });
        BuildResult result = await builder.BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = Dockerfile,
            Tags = [Reference.Parse("example/app:1")],
            BuildArgs = args ?? new Dictionary<string, string>(),
            Platform = Platform.LinuxAmd64,
        }, cancellationToken: ct);
        var store = ContentStore.ForStateRoot(temp.Combine("root"));
        ImageConfig config = ImageConfig.Parse(await store.ReadBlobBytesAsync(result.ImageId, cancellationToken: ct));
        return (result, config);
    }

    private static TempDirectory MakeContext()
    {
        var temp = new TempDirectory("dbuild-solver-");
        Directory.CreateDirectory(temp.Combine("ctx", "app"));
        File.WriteAllText(temp.Combine("ctx", "app", "run"), "#!/bin/sh\necho hi\n");
        File.WriteAllText(temp.Combine("ctx", "app", "data.txt"), "data");
        return temp;
    }

    [Fact]
    public async Task Build_Scratch_ConfigAndHistoryLikeBuildKit()
    {
        using TempDirectory temp = MakeContext();

        (_, ImageConfig config) = await BuildAsync(temp, TestContext.Current.CancellationToken);

        Assert.Equal(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "VERSION=1"], config.Config!.Env); // scratch gets the default PATH
        Assert.Equal("/app", config.Config.WorkingDir);
        Assert.Equal(["/app/run"], config.Config.Entrypoint);
        Assert.Equal("1", config.Config.Labels!["version"]);
        Assert.Equal(2, config.RootFs.DiffIds.Count); // COPY and WORKDIR make layers
        Assert.Equal(["ARG VERSION=1", "COPY app/ /app/ # buildkit", "ENV VERSION=1", "WORKDIR /app", "LABEL version=1", "ENTRYPOINT [\"/app/run\"]"],
            config.History!.Select(h => h.CreatedBy));
    }

    [Fact]
    public async Task Build_Twice_SecondIsCachedWithSameImage()
    {
        using TempDirectory temp = MakeContext();
        (_, ImageConfig first) = await BuildAsync(temp, TestContext.Current.CancellationToken);

        (BuildResult second, ImageConfig again) = await BuildAsync(temp, TestContext.Current.CancellationToken);

        Assert.All(second.Steps, s => Assert.True(s.Cached, s.Name));
        Assert.Equal(first.RootFs.DiffIds, again.RootFs.DiffIds);
    }

    [Fact]
    public async Task Build_FileChanged_MissSaysWhichFile()
    {
        using TempDirectory temp = MakeContext();
        await BuildAsync(temp, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(temp.Combine("ctx", "app", "data.txt"), "changed", TestContext.Current.CancellationToken);

        (BuildResult result, _) = await BuildAsync(temp, TestContext.Current.CancellationToken);

        Assert.Equal("app/data.txt changed", result.Steps[0].MissReason);
        Assert.Equal("previous step changed", result.Steps[1].MissReason);
    }

    [Fact]
    public async Task Build_Again_LaterInTime_SameImageIdAndCreated_LikeBuildKit()
    {
        using TempDirectory temp = MakeContext();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-03-01T10:00:00Z", CultureInfo.InvariantCulture));
        (BuildResult first, ImageConfig before) = await BuildAtAsync(temp, time, null);
        time.Advance(TimeSpan.FromHours(1));

        (BuildResult again, ImageConfig after) = await BuildAtAsync(temp, time, null);
        (BuildResult changed, ImageConfig relabelled) = await BuildAtAsync(temp, time, new Dictionary<string, string> { ["VERSION"] = "2" });

        Assert.Equal(first.ImageId, again.ImageId);
        Assert.Equal(before.Created, after.Created);
        Assert.All(after.History!, h => Assert.Equal(before.Created, h.Created));
        Assert.NotEqual(first.ImageId, changed.ImageId);
        Assert.Equal(time.GetUtcNow(), relabelled.Created); // a config not exported before is dated now
    }

    private static async Task<(BuildResult Result, ImageConfig Config)> BuildAtAsync(TempDirectory temp, TimeProvider time, IReadOnlyDictionary<string, string>? args)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var builder = new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root"), TimeProvider = time });
        BuildResult result = await builder.BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = Dockerfile,
            BuildArgs = args ?? new Dictionary<string, string>(),
            Platform = Platform.LinuxAmd64,
        }, cancellationToken: ct);
        var store = ContentStore.ForStateRoot(temp.Combine("root"));
        return (result, ImageConfig.Parse(await store.ReadBlobBytesAsync(result.ImageId, cancellationToken: ct)));
    }

    [Fact]
    public async Task Build_StagesFromOneImage_LoadMetadataOnce()
    {
        using TempDirectory temp = MakeContext();
        CancellationToken ct = TestContext.Current.CancellationToken;
        var builder = new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root") });
        await builder.BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"), DockerfileText = "FROM scratch\nCOPY app/ /app/\n", Tags = [Reference.Parse("example/base:1")], Platform = Platform.LinuxAmd64,
        }, cancellationToken: ct);
        var events = new System.Collections.Concurrent.ConcurrentQueue<ProgressEvent>();

        await builder.BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = "FROM example/base:1 AS b\nCOPY app/run /b\nFROM example/base:1\nCOPY --from=b /b /c\n",
            Platform = Platform.LinuxAmd64,
        }, new Recorder(events), ct);

        Assert.Single(events, e => e.Kind == ProgressKind.Started && e.Name.StartsWith("[internal] load metadata for ", StringComparison.Ordinal));
    }

    private sealed class Recorder(System.Collections.Concurrent.ConcurrentQueue<ProgressEvent> events) : IBuildProgress
    {
        public void Report(ProgressEvent progressEvent) => events.Enqueue(progressEvent);
    }

    [Fact]
    public async Task Build_MissingSource_ThrowsBuildExceptionNamingIt()
    {
        using var temp = new TempDirectory("dbuild-solver-");
        Directory.CreateDirectory(temp.Combine("ctx"));

        BuildException ex = await Assert.ThrowsAsync<BuildException>(() => BuildAsync(temp, TestContext.Current.CancellationToken));

        Assert.Contains("stat app/: file does not exist", ex.Message, StringComparison.Ordinal);
    }
}
