using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>Step layers stay uncompressed; the export compresses only the final image's layers, each tar only once.</summary>
public sealed class LayerCompressorTests
{
    private sealed class Recorder : IBuildProgress
    {
        private readonly List<string> _lines = [];
        public IReadOnlyList<string> Lines { get { lock (_lines) { return [.. _lines]; } } }
        public void Report(ProgressEvent progressEvent)
        {
            if (progressEvent.Kind == ProgressKind.Log && progressEvent.Text is { } text) { lock (_lines) { _lines.Add(text); } }
        }
    }

    private static async Task<(BuildResult Result, Recorder Progress, ImageManifest Manifest)> BuildAsync(TempDirectory temp, string dockerfile, CancellationToken ct)
    {
        var progress = new Recorder();
        var builder = new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root") });
        BuildResult result = await builder.BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = dockerfile,
            Tags = [Reference.Parse("example/app:1")],
            Platform = Platform.LinuxAmd64,
        }, progress, ct);
        var store = ContentStore.ForStateRoot(temp.Combine("root"));
        ImageManifest manifest = ImageManifest.Parse(await store.ReadBlobBytesAsync(result.Manifest.Digest, cancellationToken: ct));
        return (result, progress, manifest);
    }

    private static TempDirectory MakeContext()
    {
        var temp = new TempDirectory("dbuild-compress-");
        Directory.CreateDirectory(temp.Combine("ctx", "src"));
        File.WriteAllText(temp.Combine("ctx", "first.txt"), "one");
        File.WriteAllText(temp.Combine("ctx", "src", "a.txt"), string.Concat(Enumerable.Repeat("line of source text\n", 5000)));
        File.WriteAllText(temp.Combine("ctx", "src", "b.txt"), "bbb");
        return temp;
    }

    [Fact]
    public async Task Export_CompressesOnlyTheFinalImagesLayers()
    {
        using TempDirectory temp = MakeContext();
        const string dockerfile = """
            FROM scratch AS build
            COPY src/ /src/
            FROM scratch
            COPY --from=build /src/b.txt /app/
            """;

        (_, Recorder progress, ImageManifest manifest) = await BuildAsync(temp, dockerfile, TestContext.Current.CancellationToken);

        Assert.Single(manifest.Layers);
        Assert.Equal(MediaTypes.DockerLayerGzip, manifest.Layers[0].MediaType);
        Assert.Single(progress.Lines, l => l.StartsWith("compressing layer ", StringComparison.Ordinal));
        // The build stage's layer is in the store only as a plain tar: no gzip blob was ever made of it.
        var store = ContentStore.ForStateRoot(temp.Combine("root"));
        string[] blobs = Directory.GetFiles(Path.Combine(store.Root, "blobs", "sha256"));
        int gzipBlobs = blobs.Count(b => File.ReadAllBytes(b) is [0x1f, 0x8b, ..]);
        Assert.Equal(1, gzipBlobs);
    }

    [Fact]
    public async Task ParentChanged_SameFiles_LayerReusedWithoutWriting()
    {
        using TempDirectory temp = MakeContext();
        const string dockerfile = "FROM scratch\nCOPY first.txt /\nCOPY src/ /src/\n";
        var log = new ListLogger();
        await BuildWithLoggerAsync(temp, dockerfile, log, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(log.Messages, m => m.Contains("reused without writing", StringComparison.Ordinal));
        await File.WriteAllTextAsync(temp.Combine("ctx", "first.txt"), "changed", TestContext.Current.CancellationToken);

        BuildResult second = await BuildWithLoggerAsync(temp, dockerfile, log, TestContext.Current.CancellationToken);

        Assert.False(second.Steps[1].Cached); // its parent changed, so the step ran…
        Assert.Single(log.Messages, m => m.Contains("reused without writing", StringComparison.Ordinal)); // …but made no new tar
    }

    private static async Task<BuildResult> BuildWithLoggerAsync(TempDirectory temp, string dockerfile, ListLogger log, CancellationToken ct) =>
        await new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root"), Logger = log }).BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"), DockerfileText = dockerfile, Platform = Platform.LinuxAmd64,
        }, cancellationToken: ct);

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        private readonly List<string> _messages = [];
        public IReadOnlyList<string> Messages { get { lock (_messages) { return [.. _messages]; } } }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            lock (_messages) { _messages.Add(formatter(state, exception)); }
        }
    }

    [Fact]
    public async Task ParentChanged_SameTar_IsNotCompressedAgain()
    {
        using TempDirectory temp = MakeContext();
        const string dockerfile = """
            FROM scratch
            COPY first.txt /
            COPY src/ /src/
            """;
        (_, Recorder first, ImageManifest before) = await BuildAsync(temp, dockerfile, TestContext.Current.CancellationToken);
        Assert.Equal(2, first.Lines.Count(l => l.StartsWith("compressing layer ", StringComparison.Ordinal)));
        await File.WriteAllTextAsync(temp.Combine("ctx", "first.txt"), "changed", TestContext.Current.CancellationToken);

        (BuildResult result, Recorder second, ImageManifest after) = await BuildAsync(temp, dockerfile, TestContext.Current.CancellationToken);

        Assert.All(result.Steps, s => Assert.False(s.Cached, s.Name)); // COPY src/ re-ran: its parent changed
        Assert.Single(second.Lines, l => l.StartsWith("compressing layer ", StringComparison.Ordinal));
        Assert.Single(second.Lines, l => l.StartsWith("layer ", StringComparison.Ordinal) && l.Contains("already compressed", StringComparison.Ordinal));
        Assert.NotEqual(before.Layers[0].Digest, after.Layers[0].Digest);
        Assert.Equal(before.Layers[1], after.Layers[1]);
    }
}
