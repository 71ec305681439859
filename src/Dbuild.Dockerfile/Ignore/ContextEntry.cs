namespace Dbuild.Dockerfile;

/// <summary>A file or directory of the build context that the .dockerignore lets through.</summary>
/// <param name="RelativePath">Slash-separated path relative to the context root.</param>
/// <param name="FullPath">The path on disk.</param>
/// <param name="IsDirectory">True for a directory (emitted before its contents).</param>
public sealed record ContextEntry(string RelativePath, string FullPath, bool IsDirectory);
