using Dbuild.Cli.Commands;
using Dbuild.Solver;

namespace Dbuild.Cli.Tests;

/// <summary>
/// <see cref="ProgressRenderer"/>'s <c>plain</c>, <c>rawjson</c> and <c>quiet</c> modes, pinned byte for byte
/// (scripts and CI logs parse them); the live <c>tty</c> display has its own tests in <see cref="TtyProgressDisplayTests"/>.
/// </summary>
public sealed class ProgressRendererTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>A cached step, a RUN that misses and logs, and the exporter; Started at T0, times in ms after it.</summary>
    private static IEnumerable<ProgressEvent> Build()
    {
        yield return new ProgressEvent(1, "[internal] load build definition from Dockerfile", ProgressKind.Started, null, T0);
        yield return new ProgressEvent(1, "[internal] load build definition from Dockerfile", ProgressKind.Log, "transferring dockerfile: 52B done", T0.AddMilliseconds(12));
        yield return new ProgressEvent(1, "[internal] load build definition from Dockerfile", ProgressKind.Done, null, T0.AddMilliseconds(20)) { Duration = TimeSpan.FromMilliseconds(20) };
        yield return new ProgressEvent(2, "[2/3] COPY a /a", ProgressKind.Started, null, T0.AddMilliseconds(30));
        yield return new ProgressEvent(2, "[2/3] COPY a /a", ProgressKind.Cached, null, T0.AddMilliseconds(40)) { Duration = TimeSpan.FromMilliseconds(10) };
        yield return new ProgressEvent(3, "[3/3] RUN make", ProgressKind.Started, null, T0.AddMilliseconds(50));
        yield return new ProgressEvent(3, "[3/3] RUN make", ProgressKind.CacheMiss, "src/app.cs changed", T0.AddMilliseconds(51));
        yield return new ProgressEvent(3, "[3/3] RUN make", ProgressKind.Log, "cc -o app app.c", T0.AddMilliseconds(300));
        yield return new ProgressEvent(3, "[3/3] RUN make", ProgressKind.Done, null, T0.AddMilliseconds(1250)) { Duration = TimeSpan.FromMilliseconds(1200) };
        yield return new ProgressEvent(4, "exporting to image", ProgressKind.Started, null, T0.AddMilliseconds(1300));
        yield return new ProgressEvent(4, "exporting to image", ProgressKind.Error, "disk full", T0.AddMilliseconds(1400)) { Duration = TimeSpan.FromMilliseconds(100) };
    }

    private static string Render(string mode)
    {
        using var writer = new StringWriter { NewLine = "\n" };
        using (var renderer = new ProgressRenderer(mode, writer))
        {
            foreach (ProgressEvent e in Build()) { renderer.Report(e); }
            renderer.Summary(TimeSpan.FromSeconds(1.44));
        }
        return writer.ToString();
    }

    [Fact]
    public void Plain_Build_PrintsBuildKitShapeByteForByte()
    {
        const string Expected = """
            #1 [internal] load build definition from Dockerfile
            #1 0.012 transferring dockerfile: 52B done
            #1 DONE 0.0s

            #2 [2/3] COPY a /a
            #2 CACHED

            #3 [3/3] RUN make
            #3 cache miss: src/app.cs changed
            #3 0.250 cc -o app app.c
            #3 DONE 1.2s

            #4 exporting to image
            #4 ERROR: disk full

            Build finished in 1.4s: 2 steps run, 1 cached.

            """;
        Assert.Equal(Expected, Render("plain"));
    }

    [Fact]
    public void Plain_InterleavedVertices_RepeatsTheStepHeader()
    {
        using var writer = new StringWriter { NewLine = "\n" };
        using var renderer = new ProgressRenderer("plain", writer);
        renderer.Report(new ProgressEvent(1, "[a 2/2] RUN x", ProgressKind.Started, null, T0));
        renderer.Report(new ProgressEvent(2, "[b 2/2] RUN y", ProgressKind.Started, null, T0));
        renderer.Report(new ProgressEvent(1, "[a 2/2] RUN x", ProgressKind.Log, "hello", T0.AddMilliseconds(5)));
        Assert.Equal("#1 [a 2/2] RUN x\n\n#2 [b 2/2] RUN y\n\n#1 [a 2/2] RUN x\n#1 0.005 hello\n", writer.ToString());
    }

    [Fact]
    public void RawJson_Build_PrintsOneJsonObjectPerEventAndNoSummary()
    {
        string[] lines = Render("rawjson").Split('\n');
        Assert.Equal(12, lines.Length); // 11 events, then the empty string after the last newline
        Assert.Equal("""{"vertex":1,"name":"[internal] load build definition from Dockerfile","kind":"started","text":null,"timestamp":"2024-01-02T03:04:05+00:00","duration":null}""", lines[0]);
        Assert.Equal("""{"vertex":3,"name":"[3/3] RUN make","kind":"cachemiss","text":"src/app.cs changed","timestamp":"2024-01-02T03:04:05.051+00:00","duration":null}""", lines[6]);
        Assert.Equal("""{"vertex":4,"name":"exporting to image","kind":"error","text":"disk full","timestamp":"2024-01-02T03:04:06.4+00:00","duration":0.1}""", lines[10]);
        Assert.Equal("", lines[11]);
    }

    [Fact]
    public void Quiet_Build_PrintsNothing()
    {
        Assert.Equal("", Render("quiet"));
    }

    [Theory]
    [InlineData("fancy")] // not a mode buildx knows
    [InlineData("")] // empty flag value
    public void Create_UnknownMode_ThrowsUsageException(string mode)
    {
        Assert.Throws<UsageException>(() => ProgressRenderer.Create(mode, quiet: false));
    }
}
