using Dbuild.Testing;

namespace Dbuild.IntegrationTests.ForeignBases;

/// <summary>
/// The matrix: every base testdata/images/foreign/bases.txt lists × three Dockerfiles (one test class each, so the three
/// run in parallel). Every base holds /srv/work (keep.txt, hard.txt a hardlink to it, link.txt a symlink to it,
/// victim.txt, sub/nested.txt, base.txt naming the base) writable by its USER, /bin/busybox with its applet symlinks,
/// /etc/passwd and /etc/group (testdata/images/foreign/rootfs.sh).
/// </summary>
internal static class ForeignBaseCases
{
    /// <summary>FROM the base, a RUN that writes a file, deletes two of the base's (one a hardlink), changes a directory.</summary>
    public const string Run = "run";

    /// <summary>FROM the base as a stage, FROM scratch, COPY --from the stage: a binary, and a folder with a hardlink and a symlink.</summary>
    public const string CopyFromStage = "copy-from-stage";

    /// <summary>FROM scratch, COPY --from=&lt;the base's reference&gt; directly: a folder, /bin's applet symlinks, two files.</summary>
    public const string CopyFromImage = "copy-from-image";

    public static IReadOnlyList<string> Dockerfiles { get; } = [Run, CopyFromStage, CopyFromImage];

    /// <summary>The bases' names, first column of testdata/images/foreign/bases.txt.</summary>
    public static IReadOnlyList<string> Bases => List.Keys;

    /// <summary>
    /// The base BuildKit builds on in the name's place: the same image re-encoded in a form dockerd 20.10 reads
    /// (bases.txt's <c>oracle=OTHER</c>, e.g. gzip for zstd), or the base itself.
    /// </summary>
    public static string OracleOf(string baseName) => List[baseName];

    private static OrderedDictionary<string, string> List { get; } = Read();

    private static OrderedDictionary<string, string> Read()
    {
        var bases = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in File.ReadAllLines(Path.Combine(RepositoryPaths.TestData, "images", "foreign", "bases.txt")))
        {
            if (line.Length == 0 || line.StartsWith('#')) { continue; }
            string[] columns = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            bases.Add(columns[0], columns.Length > 1 && columns[1].StartsWith("oracle=", StringComparison.Ordinal) ? columns[1]["oracle=".Length..] : columns[0]);
        }
        return bases;
    }

    /// <summary>One theory row per base, so a failure names it (the test class names the Dockerfile).</summary>
    public static TheoryData<string> Rows() => new(Bases);

    /// <summary>Makes <paramref name="directory"/> a build context holding only that Dockerfile; returns it.</summary>
    public static async Task<string> WriteContextAsync(string directory, string name, string reference, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "Dockerfile"), Dockerfile(name, reference) + "\n", cancellationToken);
        return directory;
    }

    /// <summary>The Dockerfile text; <paramref name="reference"/> is written into it where an ARG cannot be (COPY --from).</summary>
    public static string Dockerfile(string name, string reference) => name switch
    {
        Run => """
            ARG BASE
            FROM $BASE
            RUN echo new > /srv/work/new.txt && rm /srv/work/victim.txt /srv/work/hard.txt && echo added > /srv/work/sub/added.txt \
                && chmod 0750 /srv/work/sub && echo t > /tmp/t
            """,
        CopyFromStage => """
            ARG BASE
            FROM $BASE AS b
            FROM scratch
            COPY --from=b /bin/busybox /x
            COPY --from=b /srv/work /work
            """,
        CopyFromImage => $"""
            FROM scratch
            COPY --from={reference} /srv/work/ /work/
            COPY --from={reference} /bin/ /bin/
            COPY --from={reference} /etc/passwd /etc/group /etc/
            """,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not one of ForeignBaseCases.Dockerfiles"),
    };
}
