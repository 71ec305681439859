using System.Globalization;
using System.Text.Json;
using Dbuild.Solver;

namespace Dbuild.Cli.Commands;

/// <summary>
/// Renders build progress: <c>plain</c> in BuildKit's shape (<c>#5 [2/4] COPY …</c>, <c>#5 CACHED</c>, <c>#5 DONE 0.4s</c>,
/// output lines prefixed with the step and its time), <c>tty</c> as buildx's live display (<see cref="TtyProgressDisplay"/>),
/// <c>rawjson</c> as one JSON event per line, <c>quiet</c> as nothing. Thread-safe: stages report in parallel.
/// Dispose it before the process returns: the tty display repaints on a timer until then.
/// </summary>
internal sealed class ProgressRenderer(string mode, TextWriter writer, TimeProvider? timeProvider = null,
    Func<(int Width, int Height)>? terminalSize = null) : IBuildProgress, IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, DateTimeOffset> _started = [];
    private readonly TtyProgressDisplay? _tty = mode == "tty"
        ? new TtyProgressDisplay(writer, timeProvider ?? TimeProvider.System, terminalSize ?? ConsoleSize) : null;
    private int _lastVertex;
    private int _cached;
    private int _built;

    public static ProgressRenderer Create(string? mode, bool quiet)
    {
        string resolved = quiet ? "quiet" : (mode ?? "auto").ToLowerInvariant();
        if (resolved == "auto") { resolved = Console.IsErrorRedirected ? "plain" : "tty"; }
        if (resolved is not ("plain" or "tty" or "rawjson" or "quiet"))
        {
            throw new UsageException($"--progress '{mode}' is not one of auto, plain, tty, quiet, rawjson.");
        }
        return new ProgressRenderer(resolved, Console.Error);
    }

    public void Report(ProgressEvent e)
    {
        lock (_lock)
        {
            switch (mode)
            {
                case "plain": Plain(e); break;
                case "tty": _tty!.Report(e); break;
                case "rawjson":
                    writer.WriteLine(JsonSerializer.Serialize(new
                    {
                        vertex = e.Vertex,
                        name = e.Name,
                        kind = e.Kind.ToString().ToLowerInvariant(),
                        text = e.Text,
                        timestamp = e.Timestamp,
                        duration = e.Duration?.TotalSeconds,
                    }));
                    break;
            }
            if (e.Kind == ProgressKind.Cached) { _cached++; }
            if (e.Kind == ProgressKind.Done) { _built++; }
        }
    }

    private void Plain(ProgressEvent e)
    {
        string id = "#" + e.Vertex.ToString(CultureInfo.InvariantCulture);
        if (e.Vertex != _lastVertex && e.Kind != ProgressKind.Started && _lastVertex != 0) { writer.WriteLine(); writer.WriteLine($"{id} {e.Name}"); }
        switch (e.Kind)
        {
            case ProgressKind.Started:
                if (_lastVertex != 0) { writer.WriteLine(); }
                _started[e.Vertex] = e.Timestamp;
                writer.WriteLine($"{id} {e.Name}");
                break;
            case ProgressKind.CacheMiss: writer.WriteLine($"{id} cache miss: {e.Text}"); break;
            case ProgressKind.Log:
                double at = _started.TryGetValue(e.Vertex, out DateTimeOffset s) ? (e.Timestamp - s).TotalSeconds : 0;
                writer.WriteLine($"{id} {at.ToString("0.000", CultureInfo.InvariantCulture)} {e.Text}");
                break;
            case ProgressKind.Cached: writer.WriteLine($"{id} CACHED"); break;
            case ProgressKind.Done: writer.WriteLine($"{id} DONE {Seconds(e.Duration)}"); break;
            case ProgressKind.Error: writer.WriteLine($"{id} ERROR: {e.Text}"); break;
        }
        _lastVertex = e.Vertex;
    }

    public void Summary(TimeSpan elapsed)
    {
        if (mode is "plain" or "tty")
        {
            lock (_lock)
            {
                _tty?.Complete(elapsed);
                writer.WriteLine();
                writer.WriteLine($"Build finished in {Seconds(elapsed)}: {_built} steps run, {_cached} cached.");
            }
        }
    }

    public void Dispose() => _tty?.Dispose();

    /// <summary>The terminal's size, or (0, 0) when there is none to ask (the display then assumes 80x24).</summary>
    private static (int Width, int Height) ConsoleSize()
    {
        try { return (Console.WindowWidth, Console.WindowHeight); }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or PlatformNotSupportedException) { return (0, 0); }
    }

    private static string Seconds(TimeSpan? duration) => (duration ?? TimeSpan.Zero).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
}
