using System.Diagnostics;
using System.Globalization;

namespace Dbuild.Solver.Cache;

/// <summary>
/// The builds running on a state root: each keeps <c>tmp/build-PID-…</c> while it runs. What was used since the
/// earliest of them started may be in use (mounted as a layer, about to be exported), so neither a prune nor the GC
/// removes it: BuildKit's "in use" records.
/// </summary>
public static class RunningBuilds
{
    /// <summary>Margin for file times, which the kernel stamps from a clock that may lag a few ticks.</summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromSeconds(1);

    /// <summary>When this process started (minus the slack): the bound for the build it runs.</summary>
    public static DateTimeOffset ThisProcessStarted { get; } = StartOf(Environment.ProcessId)!.Value - ClockSlack;

    /// <summary>When the earliest build still running on <paramref name="stateRoot"/> started (minus a second's slack), or null when none runs.</summary>
    public static DateTimeOffset? InUseSince(string stateRoot)
    {
        string tmp = Path.Combine(stateRoot, "tmp");
        if (!Directory.Exists(tmp)) { return null; }
        DateTimeOffset? earliest = null;
        foreach (string directory in Directory.EnumerateDirectories(tmp, "build-*"))
        {
            string[] parts = Path.GetFileName(directory).Split('-');
            if (parts.Length < 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || StartOf(pid) is not { } started) { continue; }
            earliest = earliest is { } e && e < started ? e : started;
        }
        return earliest - ClockSlack;
    }

    /// <summary>
    /// Removes the temp directories of builds whose process is gone (killed): their staged layers and contexts. One that
    /// still has a mount under it (a view the next step executor unmounts) is left for a later build.
    /// </summary>
    public static void RemoveAbandoned(string stateRoot)
    {
        string tmp = Path.Combine(stateRoot, "tmp");
        if (!Directory.Exists(tmp)) { return; }
        string? mounts = null;
        foreach (string directory in Directory.EnumerateDirectories(tmp, "build-*"))
        {
            string[] parts = Path.GetFileName(directory).Split('-');
            if (parts.Length < 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || StartOf(pid) is not null) { continue; }
            mounts ??= File.ReadAllText("/proc/self/mountinfo");
            if (mounts.Contains(" " + Path.GetFullPath(directory) + "/", StringComparison.Ordinal)) { continue; }
            try { Directory.Delete(directory, recursive: true); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { } // best effort: the next build tries again
        }
    }

    /// <summary>A live process's start time; null when it is gone (a killed build's leftover directory).</summary>
    private static DateTimeOffset? StartOf(int pid)
    {
        try
        {
            using Process process = Process.GetProcessById(pid);
            return process.HasExited ? null : process.StartTime.ToUniversalTime();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException) { return null; }
    }
}
