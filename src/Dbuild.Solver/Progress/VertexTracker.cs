namespace Dbuild.Solver.Progress;

/// <summary>Hands out vertex numbers and times each vertex.</summary>
internal sealed class VertexTracker(IBuildProgress sink, TimeProvider time)
{
    private int _next;

    public Vertex Start(string name)
    {
        int id = Interlocked.Increment(ref _next);
        var vertex = new Vertex(this, id, name, time.GetTimestamp());
        sink.Report(new ProgressEvent(id, name, ProgressKind.Started, null, time.GetUtcNow()));
        return vertex;
    }

    internal void Report(Vertex v, ProgressKind kind, string? text) =>
        sink.Report(new ProgressEvent(v.Id, v.Name, kind, text, time.GetUtcNow())
        {
            Duration = kind is ProgressKind.Done or ProgressKind.Cached or ProgressKind.Error ? time.GetElapsedTime(v.StartTimestamp) : null,
        });

    internal TimeSpan Elapsed(Vertex v) => time.GetElapsedTime(v.StartTimestamp);
}

internal sealed record Vertex(VertexTracker Tracker, int Id, string Name, long StartTimestamp)
{
    public void Log(string line) => Tracker.Report(this, ProgressKind.Log, line);
    public void Miss(string reason) => Tracker.Report(this, ProgressKind.CacheMiss, reason);
    public void Cached() => Tracker.Report(this, ProgressKind.Cached, null);
    public void Done() => Tracker.Report(this, ProgressKind.Done, null);
    public void Fail(string error) => Tracker.Report(this, ProgressKind.Error, error);
    public TimeSpan Elapsed => Tracker.Elapsed(this);
}
