using System.Globalization;
using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>One line of /etc/subuid or /etc/subgid: <see cref="Count"/> ids from <see cref="Start"/> on the host.</summary>
public readonly record struct SubordinateRange(long Start, long Count)
{
    /// <summary>One past the last id.</summary>
    public long End => Start + Count;
}

/// <summary>
/// What rootless RUN steps need besides dbuild: subordinate id ranges in /etc/subuid and /etc/subgid (shadow-utils'
/// format, <c>NAME_OR_UID:START:COUNT</c>) and the setuid helpers newuidmap/newgidmap (Debian's uidmap) that map them
/// into a user namespace; and, when something is missing, the one line that says what to add.
/// </summary>
[SupportedOSPlatform("linux")]
public static class RootlessSetup
{
    public const string SubuidFile = "/etc/subuid";
    public const string SubgidFile = "/etc/subgid";

    /// <summary>Where a user without ranges is told to start one (shadow-utils' SUB_UID_MIN), unless ranges lie beyond it.</summary>
    private const long SuggestedMinimum = 100000;
    private const long SuggestedCount = 65536;

    /// <summary>Real root: uid 0 outside any user namespace (dbuild's own, or a wrapper's).</summary>
    public static bool IsHostRoot => HostEnvironment.IsRoot && !HostEnvironment.InUserNamespace;

    /// <summary>A plain user on the host: not root, not in a user namespace yet (where dbuild enters its own).</summary>
    public static bool IsHostUser => !HostEnvironment.IsRoot && !HostEnvironment.InUserNamespace;

    /// <summary>Why entering a user namespace failed in this process (the helper's own words), or null.</summary>
    public static string? EntryFailure { get; set; }

    /// <summary>The ranges of <paramref name="user"/> (by name or numeric id) in the text of a subuid or subgid file, in file order.</summary>
    public static IReadOnlyList<SubordinateRange> Parse(string text, string user, long uid)
    {
        ArgumentNullException.ThrowIfNull(text);
        string id = uid.ToString(CultureInfo.InvariantCulture);
        var ranges = new List<SubordinateRange>();
        foreach ((string owner, SubordinateRange range) in Entries(text))
        {
            if (owner == user || owner == id) { ranges.Add(range); }
        }
        return ranges;
    }

    /// <summary>The ranges of <paramref name="user"/> in <paramref name="path"/>; none when the file is missing or unreadable.</summary>
    public static IReadOnlyList<SubordinateRange> Read(string path, string user, long uid) => Parse(ReadText(path), user, uid);

    /// <summary>The ranges of the user this process runs as in <paramref name="path"/>.</summary>
    public static IReadOnlyList<SubordinateRange> ForCurrentUser(string path) => Read(path, Environment.UserName, Interop.GetEffectiveUserId());

    /// <summary>A helper's path (newuidmap, newgidmap: the uidmap package; unshare: util-linux), or null when it is not installed.</summary>
    public static string? FindHelper(string name) => OciRuntime.FindTool(name);

    /// <summary>
    /// Why this process cannot run RUN steps, as one line that says what to do. Called only when the process is not
    /// root (in a user namespace or on the host).
    /// </summary>
    public static string Advice()
    {
        bool uids = ForCurrentUser(SubuidFile).Count > 0, gids = ForCurrentUser(SubgidFile).Count > 0;
        if (!uids || !gids) { return MissingRangesAdvice(Environment.UserName, uids, gids, ReadText(SubuidFile) + "\n" + ReadText(SubgidFile)); }
        if (FindHelper("newuidmap") is null || FindHelper("newgidmap") is null)
        {
            return "rootless RUN steps need newuidmap and newgidmap: install the uidmap package (apt-get install uidmap)";
        }
        return EntryFailure is { } failure
            ? $"rootless RUN steps need a user namespace, and entering one failed: {failure}"
            : "Running build steps needs root, or root inside a user namespace: run dbuild as a user with /etc/subuid and /etc/subgid ranges, or under rootlesskit.";
    }

    /// <summary>The line for a user lacking ranges in one or both files, suggesting a block past every range already given out.</summary>
    public static string MissingRangesAdvice(string user, bool hasUids, bool hasGids, string allRanges)
    {
        long start = Math.Max(SuggestedMinimum, Entries(allRanges ?? "").Select(e => e.Range.End).DefaultIfEmpty(0).Max());
        long last = start + SuggestedCount - 1;
        string files = (hasUids, hasGids) switch
        {
            (false, false) => $"{SubuidFile} and {SubgidFile}",
            (false, true) => SubuidFile,
            _ => SubgidFile,
        };
        string flags = string.Join(' ', new[] { hasUids ? null : $"--add-subuids {start}-{last}", hasGids ? null : $"--add-subgids {start}-{last}" }.OfType<string>());
        return $"rootless RUN steps need subordinate ids: add \"{user}:{start}:{SuggestedCount}\" to {files} (or: usermod {flags} {user})";
    }

    private static IEnumerable<(string Owner, SubordinateRange Range)> Entries(string text)
    {
        foreach (string line in text.Split('\n'))
        {
            string[] fields = line.Trim().Split(':');
            if (fields.Length != 3 || fields[0].Length == 0 || fields[0].StartsWith('#')) { continue; }
            if (!long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long start)
                || !long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out long count) || count == 0) { continue; }
            yield return (fields[0], new SubordinateRange(start, count));
        }
    }

    private static string ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }
}
