using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Dbuild.Cli.Commands;
using Dbuild.Solver;
using Microsoft.Extensions.Time.Testing;

namespace Dbuild.Cli.Tests;

/// <summary>
/// The live <c>tty</c> progress display, driven by a <see cref="FakeTimeProvider"/>. Frames are replayed on a small
/// terminal model (<see cref="Terminal"/>) so assertions see what a user would see, not the escape sequences.
/// </summary>
public sealed partial class TtyProgressDisplayTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);
    private readonly FrameWriter _writer = new();
    private (int Width, int Height) _size = (100, 40);
    private TtyProgressDisplay? _display;

    private TtyProgressDisplay Display => _display ??= new TtyProgressDisplay(_writer, _time, () => _size);

    public void Dispose()
    {
        _display?.Dispose();
        _writer.Dispose();
    }

    private void Started(int vertex, string name) => Display.Report(new ProgressEvent(vertex, name, ProgressKind.Started, null, _time.GetUtcNow()));

    private void Event(int vertex, string name, ProgressKind kind, string? text = null, TimeSpan? duration = null) =>
        Display.Report(new ProgressEvent(vertex, name, kind, text, _time.GetUtcNow()) { Duration = duration });

    private List<string> Screen() => Terminal.Replay(_writer.Frames);

    [Fact]
    public void Report_MixedStates_HeaderCountsFinishedOverSeen()
    {
        Started(1, "[internal] load build definition from Dockerfile");
        Event(1, "[internal] load build definition from Dockerfile", ProgressKind.Done, duration: TimeSpan.FromMilliseconds(30));
        Started(2, "[2/3] COPY a /a");
        Event(2, "[2/3] COPY a /a", ProgressKind.Cached, duration: TimeSpan.Zero);
        Started(3, "[3/3] RUN make");

        List<string> screen = Screen();
        Assert.Equal("[+] Building 0.0s (2/3)", screen[0]);
        Assert.Equal(4, screen.Count);
        Assert.Matches(@"^ => \[internal\] load build definition from Dockerfile +0\.0s$", screen[1]);
        Assert.Matches(@"^ => CACHED \[2/3\] COPY a /a +0\.0s$", screen[2]);
        Assert.Matches(@"^ => \[3/3\] RUN make +0\.0s$", screen[3]);
    }

    [Fact]
    public void Timer_TimeAdvances_RunningStepAndHeaderShowElapsed()
    {
        Started(1, "[build 2/4] RUN sleep 5");
        _time.Advance(TtyProgressDisplay.RefreshInterval * 20); // 2.4s, on a tick whichever way the fake fires its timers

        List<string> screen = Screen();
        Assert.Equal("[+] Building 2.4s (0/1)", screen[0]);
        Assert.Matches(@"^ => \[build 2/4\] RUN sleep 5 +2\.4s$", screen[1]);

        _time.Advance(TtyProgressDisplay.RefreshInterval * 5);
        Assert.Matches(@"^ => \[build 2/4\] RUN sleep 5 +3\.0s$", Screen()[1]);
    }

    [Fact]
    public void Report_FinishedStep_ShowsItsDurationNotTheClock()
    {
        Started(1, "[2/2] COPY . /src");
        _time.Advance(TimeSpan.FromSeconds(3));
        Event(1, "[2/2] COPY . /src", ProgressKind.Done, duration: TimeSpan.FromSeconds(1.26));
        _time.Advance(TimeSpan.FromSeconds(3));

        Assert.Matches(@"^ => \[2/2\] COPY \. /src +1\.3s$", Screen()[1]);
    }

    [Fact]
    public void RunOutput_MoreLinesThanTheTail_ShowsTheLastSixIndented()
    {
        const string Run = "[build 3/4] RUN make";
        Started(1, Run);
        Event(1, Run, ProgressKind.CacheMiss, "src/app.cs changed");
        for (int i = 1; i <= 10; i++) { Event(1, Run, ProgressKind.Log, $"line {i}"); }
        _time.Advance(TtyProgressDisplay.RefreshInterval);

        List<string> screen = Screen();
        Assert.Equal(
            [" => => cache miss: src/app.cs changed", " => => # line 5", " => => # line 6", " => => # line 7", " => => # line 8", " => => # line 9", " => => # line 10"],
            screen[2..]);
        Assert.Equal(6, TtyProgressDisplay.LogTail);
    }

    [Fact]
    public void RunOutput_BurstAtOneInstant_RepaintsOnTheTimerNotPerLine()
    {
        Started(1, "[2/2] RUN yes | head -1000");
        int framesBefore = _writer.Frames.Count;
        for (int i = 0; i < 1000; i++) { Event(1, "[2/2] RUN yes | head -1000", ProgressKind.Log, "y"); }

        Assert.Equal(framesBefore, _writer.Frames.Count);
        _time.Advance(TtyProgressDisplay.RefreshInterval);
        Assert.Equal(framesBefore + 1, _writer.Frames.Count);
    }

    [Fact]
    public void Repaint_EveryFrame_MovesUpExactlyTheLinesPaintedBefore()
    {
        const string Run = "[2/3] RUN make";
        Started(1, Run);
        Event(1, Run, ProgressKind.Log, "compiling"); // the block grows by the output line ...
        _time.Advance(TtyProgressDisplay.RefreshInterval);
        Started(2, "[3/3] COPY out /out");
        Event(1, Run, ProgressKind.Done, duration: TimeSpan.FromSeconds(1)); // ... and shrinks when the step finishes
        _time.Advance(TtyProgressDisplay.RefreshInterval);

        Assert.True(_writer.Frames.Count >= 5);
        int linesBefore = 0;
        foreach (string frame in _writer.Frames)
        {
            Match up = LeadingCursorUp().Match(frame);
            Assert.Equal(linesBefore, up.Success ? int.Parse(up.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
            Match back = TrailingCursorUp().Match(frame);
            linesBefore = frame.Count(c => c == '\n') - (back.Success ? int.Parse(back.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
        }
        Assert.Contains(_writer.Frames, f => TrailingCursorUp().IsMatch(f)); // the shrinking frame erased what it no longer uses
        Assert.Equal(3, Screen().Count);
    }

    [Fact]
    public void Paint_NarrowTerminal_ClampsEveryLineAndKeepsTheTime()
    {
        _size = (30, 40);
        Started(1, "[build 2/4] COPY some/rather/long/path/in/the/context /app/");
        Event(1, "[build 2/4] COPY some/rather/long/path/in/the/context /app/", ProgressKind.CacheMiss, "some/rather/long/path/in/the/context/file.txt changed");
        Event(1, "[build 2/4] COPY some/rather/long/path/in/the/context /app/", ProgressKind.Log, new string('x', 200));
        _time.Advance(TtyProgressDisplay.RefreshInterval);

        Assert.All(_writer.Frames.SelectMany(f => f.Split('\n')), line => Assert.True(Visible(line).Length < 30, $"'{Visible(line)}' is wider than 30"));
        List<string> screen = Screen();
        Assert.Equal(4, screen.Count);
        Assert.StartsWith(" => [build 2/4] COPY", screen[1], StringComparison.Ordinal);
        Assert.EndsWith(" 0.1s", screen[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Paint_UnknownTerminalSize_AssumesEightyColumns()
    {
        _size = (0, 0);
        Started(1, new string('n', 300));

        Assert.Equal(79, Screen()[1].Length);
    }

    [Fact]
    public void Paint_ShortTerminal_KeepsRunningStepsAndDropsFinishedFromTheTop()
    {
        _size = (80, 8); // 7 lines for the block: the header and 6 more
        for (int v = 1; v <= 10; v++)
        {
            Started(v, $"[{v}/12] COPY f{v} /f{v}");
            Event(v, $"[{v}/12] COPY f{v} /f{v}", ProgressKind.Done, duration: TimeSpan.FromMilliseconds(100));
        }
        Started(11, "[11/12] RUN one");
        Event(11, "[11/12] RUN one", ProgressKind.Log, "out 1");
        Started(12, "[12/12] RUN two");
        _time.Advance(TtyProgressDisplay.RefreshInterval);

        List<string> screen = Screen();
        Assert.Equal(7, screen.Count);
        Assert.Equal("[+] Building 0.1s (10/12)", screen[0]);
        Assert.Equal([" => [8/12] COPY f8 /f8", " => [9/12] COPY f9 /f9", " => [10/12] COPY f10 /f10", " => [11/12] RUN one", " => => # out 1", " => [12/12] RUN two"],
            screen[1..].Select(l => Regex.Replace(l, @" +\d+\.\ds$", "")));
        Assert.All(_writer.Frames, frame => Assert.True(frame.Count(c => c == '\n') <= 7, "a frame was taller than the terminal allows"));
    }

    [Fact]
    public void Paint_OnlyRunningStepsOverflow_DropsTheirOutputBeforeTheSteps()
    {
        _size = (80, 5); // header and 3 more
        Started(1, "[a 2/2] RUN one");
        Started(2, "[b 2/2] RUN two");
        for (int i = 0; i < 4; i++) { Event(2, "[b 2/2] RUN two", ProgressKind.Log, $"b{i}"); }
        _time.Advance(TtyProgressDisplay.RefreshInterval);

        List<string> screen = Screen();
        Assert.Equal(4, screen.Count);
        Assert.StartsWith(" => [a 2/2] RUN one", screen[1], StringComparison.Ordinal);
        Assert.StartsWith(" => [b 2/2] RUN two", screen[2], StringComparison.Ordinal);
        Assert.Equal(" => => # b3", screen[3]);
    }

    [Fact]
    public void Complete_TallBuild_PaintsEveryStepOnceAndThenNothing()
    {
        _size = (80, 4);
        for (int v = 1; v <= 5; v++)
        {
            Started(v, $"[{v}/5] COPY f{v} /f{v}");
            Event(v, $"[{v}/5] COPY f{v} /f{v}", ProgressKind.Done, duration: TimeSpan.FromMilliseconds(200));
        }
        _time.Advance(TimeSpan.FromSeconds(1));
        Display.Complete(TimeSpan.FromSeconds(1.04));
        int frames = _writer.Frames.Count;

        List<string> screen = Screen();
        Assert.Equal("[+] Building 1.0s (5/5)", screen[0]);
        Assert.Equal(6, screen.Count); // the final paint is not clamped: it scrolls, like buildx's
        _time.Advance(TimeSpan.FromSeconds(10));
        Started(6, "late");
        Assert.Equal(frames, _writer.Frames.Count);
    }

    [Fact]
    public void Complete_FailedStep_FinalPaintHasTheErrorLineAndTheOutputTail()
    {
        const string Run = "[build 3/4] RUN false";
        Started(1, "[build 2/4] COPY . /src");
        Event(1, "[build 2/4] COPY . /src", ProgressKind.Done, duration: TimeSpan.FromMilliseconds(400));
        Started(2, Run);
        Event(2, Run, ProgressKind.Log, "make: *** [all] Error 1");
        Event(2, Run, ProgressKind.Error, "process \"/bin/sh -c false\" did not complete successfully: exit code: 1", TimeSpan.FromMilliseconds(200));
        Display.Complete(TimeSpan.FromSeconds(0.7));

        List<string> screen = Screen();
        Assert.Equal("[+] Building 0.7s (2/2)", screen[0]);
        Assert.Matches(@"^ => ERROR \[build 3/4\] RUN false +0\.2s$", screen[2]);
        Assert.Equal(" => => # make: *** [all] Error 1", screen[3]);
        Assert.Equal(" => => error: process \"/bin/sh -c false\" did not complete successfully: exit code: 1", screen[4]);
    }

    [Fact]
    public void Renderer_SummaryThenDispose_FinalPaintSummaryLineAndNoWritesAfter()
    {
        using var writer = new FrameWriter();
        using (var renderer = new ProgressRenderer("tty", writer, _time, () => (80, 24)))
        {
            renderer.Report(new ProgressEvent(1, "[2/2] COPY a /a", ProgressKind.Started, null, T0));
            renderer.Report(new ProgressEvent(1, "[2/2] COPY a /a", ProgressKind.Done, null, T0) { Duration = TimeSpan.FromSeconds(0.4) });
            _time.Advance(TtyProgressDisplay.RefreshInterval * 3);
            renderer.Summary(TimeSpan.FromSeconds(0.5));
            _time.Advance(TimeSpan.FromSeconds(1)); // the timer is stopped by Summary ...
        }
        string written = writer.ToString();
        _time.Advance(TimeSpan.FromSeconds(1)); // ... and gone after Dispose

        Assert.Equal(written, writer.ToString());
        Assert.EndsWith("\n\nBuild finished in 0.5s: 1 steps run, 0 cached.\n", written, StringComparison.Ordinal);
        List<string> screen = Terminal.Replay([written]);
        Assert.Equal("[+] Building 0.5s (1/1)", screen[0]);
        Assert.Matches(@"^ => \[2/2\] COPY a /a +0\.4s$", screen[1]);
        Assert.Equal(["", "Build finished in 0.5s: 1 steps run, 0 cached."], screen[2..]);
    }

    [Fact]
    public async Task Report_ParallelStages_EveryVertexEndsUpOnScreen()
    {
        _size = (80, 200);
        Assert.NotNull(Display); // created before the threads race for it
        await Parallel.ForAsync(1, 41, TestContext.Current.CancellationToken, (v, _) =>
        {
            string name = $"[stage{v} 2/2] RUN build";
            Started(v, name);
            Event(v, name, ProgressKind.Log, "working");
            Event(v, name, ProgressKind.Done, duration: TimeSpan.FromSeconds(1));
            return ValueTask.CompletedTask;
        });
        Display.Complete(TimeSpan.FromSeconds(2));

        List<string> screen = Screen();
        Assert.Equal("[+] Building 2.0s (40/40)", screen[0]);
        Assert.Equal(41, screen.Count);
        Assert.Equal(Enumerable.Range(1, 40), screen[1..].Select(l => int.Parse(Regex.Match(l, @"stage(\d+)").Groups[1].Value, CultureInfo.InvariantCulture)).Order());
    }

    [Theory]
    [InlineData("\e[31mred\e[0m text", "red text")] // colour codes from the step's program
    [InlineData("10%\r50%\r100%", "100%")] // a progress bar redrawing itself
    [InlineData("a\tb\u0007", "a b")] // tab and bell
    [InlineData("done\r\n", "done")] // CRLF line ending
    public void Sanitize_Output_KeepsWhatATerminalWouldShowOnOneLine(string text, string expected)
    {
        Assert.Equal(expected, TtyProgressDisplay.Sanitize(text, output: true));
    }

    [Fact]
    public void Sanitize_MultiLineName_JoinsTheLines()
    {
        Assert.Equal("[2/2] RUN <<EOF echo hi EOF", TtyProgressDisplay.Sanitize("[2/2] RUN <<EOF\necho hi\nEOF"));
    }

    private static string Visible(string line) => EscapeSequence().Replace(line, "").TrimEnd('\r');

    [GeneratedRegex(@"^\e\[(\d+)A")]
    private static partial Regex LeadingCursorUp();

    [GeneratedRegex(@"\e\[(\d+)A$")]
    private static partial Regex TrailingCursorUp();

    [GeneratedRegex(@"\e\[[0-9;?]*[A-Za-z]")]
    private static partial Regex EscapeSequence();

    /// <summary>Records each <c>Write(string)</c> as one frame (the display writes a frame in one call).</summary>
    private sealed class FrameWriter : StringWriter
    {
        public FrameWriter() : base(CultureInfo.InvariantCulture) => NewLine = "\n";

        public List<string> Frames { get; } = [];

        public override void Write(string? value)
        {
            lock (Frames) { Frames.Add(value ?? ""); }
            base.Write(value);
        }
    }

    /// <summary>
    /// Just enough of a terminal to replay the display: printable text, <c>\r</c>, <c>\n</c>, cursor up
    /// (<c>ESC[nA</c>) and erase line (<c>ESC[2K</c>); anything else fails the test. Trailing blank rows are dropped.
    /// </summary>
    private static class Terminal
    {
        public static List<string> Replay(IEnumerable<string> frames)
        {
            var rows = new List<StringBuilder> { new() };
            int row = 0, column = 0;
            foreach (string text in frames.ToList())
            {
                for (int i = 0; i < text.Length; i++)
                {
                    char c = text[i];
                    if (c == '\e')
                    {
                        Match m = Regex.Match(text[i..], @"^\e\[(\d*)([A-Za-z])");
                        Assert.True(m.Success, $"unexpected escape at {i} in {text}");
                        int n = m.Groups[1].Value.Length > 0 ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
                        switch (m.Groups[2].Value)
                        {
                            case "A": row = Math.Max(0, row - n); break;
                            case "K" when n == 2: rows[row].Clear(); break;
                            default: Assert.Fail($"unexpected escape {m.Value[1..]}"); break;
                        }
                        i += m.Length - 1;
                    }
                    else if (c == '\r') { column = 0; }
                    else if (c == '\n')
                    {
                        row++;
                        column = 0;
                        if (row == rows.Count) { rows.Add(new StringBuilder()); }
                    }
                    else
                    {
                        StringBuilder line = rows[row];
                        if (line.Length < column) { line.Append(' ', column - line.Length); }
                        if (column < line.Length) { line[column] = c; } else { line.Append(c); }
                        column++;
                    }
                }
            }
            var result = rows.Select(r => r.ToString()).ToList();
            while (result.Count > 0 && result[^1].Length == 0) { result.RemoveAt(result.Count - 1); }
            return result;
        }
    }
}
