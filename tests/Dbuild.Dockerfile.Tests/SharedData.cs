using Dbuild.Testing;

namespace Dbuild.Dockerfile.Tests;

/// <summary>Paths into ../shared (parser cases and the corpus).</summary>
internal static class SharedData
{
    public static string ParserCases => Path.Combine(RepositoryPaths.Shared, "parser-cases", "buildkit");

    public static string Corpus => Path.Combine(RepositoryPaths.Shared, "dockerfile-corpus");

    public static IEnumerable<string> CorpusFiles() =>
        Directory.EnumerateFiles(Corpus, "Dockerfile", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Corpus, f))
            .Order(StringComparer.Ordinal);
}
