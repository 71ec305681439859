namespace Dbuild.Testing;

/// <summary>
/// The test inputs in ../shared (<see cref="RepositoryPaths.Shared"/>), which is not part of the repository: BuildKit's
/// parser cases and the Dockerfile corpus. A test calls a <c>Require…</c> method first, which skips it (fails it under
/// <c>CI=true</c>) when the folder or file it needs is absent. Theory data reads through <see cref="Rows"/>, which
/// never throws.
/// </summary>
public static class SharedData
{
    private const string CorpusFolder = "dockerfile-corpus";
    private const string CorpusWhat = "the Dockerfile corpus: 1,191 Dockerfiles with BuildKit's parse dumps";
    private static readonly string ParserCasesFolder = Path.Combine("parser-cases", "buildkit");

    /// <summary>The placeholder row's text when a theory's input is absent.</summary>
    public const string MissingRow = "(input absent from ../shared)";

    /// <summary>The corpus folder (unchecked: data methods test it with <see cref="Rows"/>).</summary>
    public static string Corpus => Path.Combine(RepositoryPaths.Shared, CorpusFolder);

    /// <summary>BuildKit's parser cases folder (unchecked).</summary>
    public static string ParserCases => Path.Combine(RepositoryPaths.Shared, ParserCasesFolder);

    /// <summary>Returns the corpus folder, or skips (fails under CI) when it is absent.</summary>
    public static string RequireCorpus() => Prerequisites.RequireShared(CorpusFolder, CorpusWhat);

    /// <summary>Returns a folder or file of BuildKit's parser cases, or skips (fails under CI) when it is absent.</summary>
    public static string RequireParserCase(string relativePath) =>
        Prerequisites.RequireShared(Path.Combine(ParserCasesFolder, relativePath), $"BuildKit's parser test cases, {relativePath}");

    /// <summary>Every corpus Dockerfile, relative to <see cref="Corpus"/>, in ordinal order.</summary>
    public static IEnumerable<string> CorpusFiles() =>
        Directory.EnumerateFiles(Corpus, "Dockerfile", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Corpus, f))
            .Order(StringComparer.Ordinal);

    /// <summary>
    /// Theory data read from <paramref name="path"/>, or <paramref name="placeholder"/> (one row) when it is absent: a data
    /// method must not throw and xunit fails an empty theory, so the test's own <c>Require…</c> reports the absence.
    /// </summary>
    public static TData Rows<TData>(string path, Func<string, TData> read, TData placeholder) => Path.Exists(path) ? read(path) : placeholder;
}
