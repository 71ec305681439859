namespace Dbuild.Solver;

/// <summary>Kinds of progress events, in the order a vertex goes through them.</summary>
public enum ProgressKind
{
    /// <summary>A vertex started.</summary>
    Started,
    /// <summary>A vertex's result came from the cache.</summary>
    Cached,
    /// <summary>A vertex will run; <see cref="ProgressEvent.Text"/> says why the cache missed.</summary>
    CacheMiss,
    /// <summary>A line of RUN output or a status note.</summary>
    Log,
    /// <summary>A vertex finished.</summary>
    Done,
    /// <summary>A vertex failed; <see cref="ProgressEvent.Text"/> is the error.</summary>
    Error,
}

/// <summary>One progress event: vertex number (BuildKit's <c>#N</c>), its name, and what happened.</summary>
public sealed record ProgressEvent(int Vertex, string Name, ProgressKind Kind, string? Text, DateTimeOffset Timestamp)
{
    /// <summary>Elapsed time for Done/Cached/Error.</summary>
    public TimeSpan? Duration { get; init; }
}

/// <summary>Receives progress events; implementations must be thread-safe (stages run in parallel).</summary>
public interface IBuildProgress
{
    /// <summary>Reports one event.</summary>
    void Report(ProgressEvent progressEvent);
}

/// <summary>Discards progress.</summary>
public sealed class NullBuildProgress : IBuildProgress
{
    /// <summary>The shared instance.</summary>
    public static NullBuildProgress Instance { get; } = new();

    /// <inheritdoc />
    public void Report(ProgressEvent progressEvent) { }
}
