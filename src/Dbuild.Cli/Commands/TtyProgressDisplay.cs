using System.Globalization;
using System.Text;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// buildx's live <c>tty</c> progress: a <c>[+] Building 3.2s (5/12)</c> header, one line per vertex with its time
/// (running ones counting up), the last lines of a running step's output and dbuild's cache-miss reasons under it.
/// The block is repainted in place (cursor up, erase line) on a timer and on state changes; it is clamped to the
/// terminal's width and height, dropping finished vertices from the top first. <see cref="Complete"/> paints the
/// whole build once more, unclamped, and nothing is written after it or after <see cref="Dispose"/>.
/// </summary>
internal sealed class TtyProgressDisplay : IDisposable
{
    /// <summary>Output lines shown under a running step, as buildx does.</summary>
    internal const int LogTail = 6;
    internal const int FallbackWidth = 80;
    internal const int FallbackHeight = 24;
    internal static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(120);

    private const string EraseLine = "\e[2K";

    private readonly Lock _lock = new();
    private readonly TextWriter _writer;
    private readonly TimeProvider _time;
    private readonly Func<(int Width, int Height)> _terminalSize;
    private readonly long _startedAt;
    private readonly List<VertexState> _vertices = [];
    private readonly Dictionary<int, VertexState> _byId = [];
    private readonly ITimer _timer;
    private int _paintedLines;
    private long _lastPaint;
    private bool _completed;

    /// <param name="writer">The terminal (stderr); written to only under this display's lock.</param>
    /// <param name="time">Drives the refresh timer and every elapsed time shown.</param>
    /// <param name="terminalSize">Columns and rows, asked at every paint (the terminal may be resized); 0 or less means unknown.</param>
    public TtyProgressDisplay(TextWriter writer, TimeProvider time, Func<(int Width, int Height)> terminalSize)
    {
        _writer = writer;
        _time = time;
        _terminalSize = terminalSize;
        _startedAt = time.GetTimestamp();
        _timer = time.CreateTimer(static state => ((TtyProgressDisplay)state!).Tick(), this, RefreshInterval, RefreshInterval);
    }

    public void Report(ProgressEvent e)
    {
        lock (_lock)
        {
            if (_completed) { return; }
            if (!_byId.TryGetValue(e.Vertex, out VertexState? vertex))
            {
                vertex = new VertexState(Sanitize(e.Name), _time.GetTimestamp());
                _byId.Add(e.Vertex, vertex);
                _vertices.Add(vertex);
            }
            switch (e.Kind)
            {
                case ProgressKind.Cached: vertex.Finish(VertexStatus.Cached, e.Duration ?? _time.GetElapsedTime(vertex.StartedAt)); break;
                case ProgressKind.Done: vertex.Finish(VertexStatus.Done, e.Duration ?? _time.GetElapsedTime(vertex.StartedAt)); break;
                case ProgressKind.Error:
                    vertex.Finish(VertexStatus.Error, e.Duration ?? _time.GetElapsedTime(vertex.StartedAt));
                    vertex.Error = Sanitize(e.Text ?? "");
                    break;
                case ProgressKind.CacheMiss: vertex.MissReason = Sanitize(e.Text ?? ""); break;
                case ProgressKind.Log:
                    vertex.Logs.Enqueue(Sanitize(e.Text ?? "", output: true));
                    if (vertex.Logs.Count > LogTail) { vertex.Logs.Dequeue(); }
                    // RUN output can be thousands of lines a second: leave those to the timer unless it is late.
                    if (_time.GetElapsedTime(_lastPaint) < RefreshInterval) { return; }
                    break;
            }
            Paint(final: false, elapsed: _time.GetElapsedTime(_startedAt));
        }
    }

    /// <summary>Stops the timer and paints the whole build one last time, header time <paramref name="elapsed"/>.</summary>
    public void Complete(TimeSpan elapsed)
    {
        lock (_lock)
        {
            if (_completed) { return; }
            _completed = true;
            _timer.Dispose();
            Paint(final: true, elapsed);
        }
    }

    public void Dispose()
    {
        // Taking the lock waits out a paint the timer may be doing; every later tick sees _completed and returns.
        lock (_lock)
        {
            _completed = true;
            _timer.Dispose();
        }
    }

    private void Tick()
    {
        lock (_lock)
        {
            if (_completed) { return; }
            Paint(final: false, _time.GetElapsedTime(_startedAt));
        }
    }

    private void Paint(bool final, TimeSpan elapsed)
    {
        (int width, int height) = _terminalSize();
        // One column short of the edge: a line that fills the last column leaves some terminals in a pending wrap.
        int columns = (width > 0 ? width : FallbackWidth) - 1;
        int rows = height > 0 ? height : FallbackHeight;
        List<string> lines = Layout(elapsed, columns, final ? int.MaxValue : rows - 1);

        var frame = new StringBuilder();
        if (_paintedLines > 0) { CursorUp(frame, _paintedLines); }
        frame.Append('\r');
        foreach (string line in lines) { frame.Append(EraseLine).Append(line).Append('\n'); }
        int stale = _paintedLines - lines.Count;
        if (stale > 0)
        {
            for (int i = 0; i < stale; i++) { frame.Append(EraseLine).Append('\n'); }
            CursorUp(frame, stale);
        }
        _paintedLines = lines.Count;
        _lastPaint = _time.GetTimestamp();
        _writer.Write(frame.ToString());
        _writer.Flush();
    }

    private static void CursorUp(StringBuilder frame, int lines) => frame.Append("\e[").Append(lines.ToString(CultureInfo.InvariantCulture)).Append('A');

    /// <summary>The header and each vertex's lines, at most <paramref name="maxLines"/> of them, none wider than <paramref name="columns"/>.</summary>
    private List<string> Layout(TimeSpan elapsed, int columns, int maxLines)
    {
        // No " FINISHED" as buildx adds on success: Summary is called however the build ended, and a build can fail
        // outside any vertex (a missing COPY source), so "all vertices done" does not mean it succeeded.
        int finished = _vertices.Count(v => v.Status != VertexStatus.Running);
        string header = string.Create(CultureInfo.InvariantCulture, $"[+] Building {Seconds(elapsed)} ({finished}/{_vertices.Count})");

        var groups = new List<(bool Running, List<string> Lines)>(_vertices.Count);
        foreach (VertexState v in _vertices)
        {
            TimeSpan time = v.Duration ?? _time.GetElapsedTime(v.StartedAt);
            string status = v.Status switch { VertexStatus.Cached => "CACHED ", VertexStatus.Error => "ERROR ", _ => "" };
            var group = new List<string> { Align($" => {status}{v.Name}", Seconds(time), columns) };
            if (v.MissReason is { } reason) { group.Add(Clamp($" => => cache miss: {reason}", columns)); }
            if (v.Status is VertexStatus.Running or VertexStatus.Error)
            {
                group.AddRange(v.Logs.Select(l => Clamp($" => => # {l}", columns)));
            }
            if (v.Error is { } error) { group.Add(Clamp($" => => error: {error}", columns)); }
            groups.Add((v.Status == VertexStatus.Running, group));
        }

        // Too tall: finished vertices scroll off the top first, then the oldest output of running ones, then the oldest running ones.
        int total = 1 + groups.Sum(g => g.Lines.Count);
        for (int i = 0; total > maxLines && i < groups.Count;)
        {
            if (groups[i].Running) { i++; continue; }
            total -= groups[i].Lines.Count;
            groups.RemoveAt(i);
        }
        for (int i = 0; total > maxLines && i < groups.Count; i++)
        {
            int drop = Math.Min(groups[i].Lines.Count - 1, total - maxLines);
            groups[i].Lines.RemoveRange(1, drop);
            total -= drop;
        }
        while (total > maxLines && groups.Count > 0)
        {
            total -= groups[0].Lines.Count;
            groups.RemoveAt(0);
        }

        var lines = new List<string>(total) { Clamp(header, columns) };
        foreach ((_, List<string> group) in groups) { lines.AddRange(group); }
        return lines;
    }

    /// <summary>buildx's alignment: the name on the left, the time against the right edge, the name cut short when needed.</summary>
    private static string Align(string left, string right, int columns)
    {
        int room = columns - right.Length - 1;
        if (room < 1) { return Clamp(left, columns); }
        return Clamp(left, room).PadRight(room) + " " + right;
    }

    private static string Clamp(string text, int columns)
    {
        if (text.Length <= columns) { return text; }
        int cut = Math.Max(columns, 0);
        if (cut > 0 && char.IsHighSurrogate(text[cut - 1])) { cut--; }
        return text[..cut];
    }

    /// <summary>
    /// One display line: escape sequences and control characters would move the cursor out from under the block, so
    /// they go, and line breaks become spaces; in program <paramref name="output"/> a carriage return (a progress bar
    /// redrawing itself) keeps only what came after it, as a terminal would show.
    /// </summary>
    internal static string Sanitize(string text, bool output = false)
    {
        string trimmed = text.TrimEnd('\r', '\n');
        int cr = output ? trimmed.LastIndexOfAny(['\r', '\n']) : -1;
        if (cr >= 0) { trimmed = trimmed[(cr + 1)..]; }
        var result = new StringBuilder(trimmed.Length);
        for (int i = 0; i < trimmed.Length; i++)
        {
            char c = trimmed[i];
            if (c == '\e')
            {
                // CSI (ESC [ params final) up to its final byte; any other escape drops only the ESC and the next char.
                if (i + 1 < trimmed.Length && trimmed[i + 1] == '[')
                {
                    i += 2;
                    while (i < trimmed.Length && trimmed[i] is < '@' or > '~') { i++; }
                }
                else { i++; }
            }
            else if (c is '\t' or '\r' or '\n') { result.Append(' '); }
            else if (!char.IsControl(c)) { result.Append(c); }
        }
        return result.ToString();
    }

    private static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";

    private enum VertexStatus { Running, Cached, Done, Error }

    private sealed class VertexState(string name, long startedAt)
    {
        public string Name { get; } = name;
        public long StartedAt { get; } = startedAt;
        public VertexStatus Status { get; private set; }
        public TimeSpan? Duration { get; private set; }
        public string? MissReason { get; set; }
        public string? Error { get; set; }
        public Queue<string> Logs { get; } = new();

        public void Finish(VertexStatus status, TimeSpan duration) => (Status, Duration) = (status, duration);
    }
}
