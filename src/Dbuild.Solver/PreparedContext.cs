namespace Dbuild.Solver;

/// <summary>
/// A build context ready to build from: a local directory as given, or one made from a git checkout, a download or
/// stdin, deleted again on <see cref="Dispose"/>.
/// </summary>
public sealed class PreparedContext : IDisposable
{
    private readonly string? _temporaryRoot;

    internal PreparedContext(string directory, string? dockerfileText, string? temporaryRoot)
    {
        Directory = directory;
        DockerfileText = dockerfileText;
        _temporaryRoot = temporaryRoot;
    }

    /// <summary>The context directory.</summary>
    public string Directory { get; }

    /// <summary>The Dockerfile when the context was one (docker reads a non-archive as the Dockerfile; the context is then empty).</summary>
    public string? DockerfileText { get; }

    /// <summary>
    /// True when the context was not a local directory: <c>-f</c> then names a file inside it, and (as in BuildKit) its
    /// .dockerignore does not apply (<see cref="BuildRequest.ContextIsRemote"/>).
    /// </summary>
    public bool IsRemote => _temporaryRoot is not null;

    /// <summary>A local directory context, used in place.</summary>
    public static PreparedContext Local(string directory) => new(Path.GetFullPath(directory), null, null);

    public void Dispose()
    {
        if (_temporaryRoot is null) { return; }
        try { System.IO.Directory.Delete(_temporaryRoot, recursive: true); }
        catch (IOException) { } // a file still open elsewhere: the temp directory is the OS's to clean
        catch (UnauthorizedAccessException) { }
    }
}
