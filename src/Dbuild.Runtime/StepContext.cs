using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>Everything one step set up, torn down in reverse whatever the outcome: mounts, held cache locks, the step's directory.</summary>
[SupportedOSPlatform("linux")]
internal sealed class StepContext(string directory)
{
    /// <summary>Rounds of lazy unmounts for mounts nobody registered (stacked mounts need one round each).</summary>
    private const int MaxDetachRounds = 8;

    public string Directory { get; } = directory;

    /// <summary>Mount points, unmounted last-first. A mount point is added before its mount is made, so a mount that
    /// completes while the step is being cancelled is still unmounted.</summary>
    public List<string> Unmounts { get; } = [];

    /// <summary>Undo actions (lock releases, private cache dirs), run last-first after the unmounts.</summary>
    public List<Action> Releases { get; } = [];

    /// <summary>Unmounts everything mounted so far (lazily detaching what is busy).</summary>
    public List<string> UnmountAll()
    {
        var problems = new List<string>();
        for (int i = Unmounts.Count - 1; i >= 0; i--)
        {
            try { Interop.Unmount(Unmounts[i]); }
            catch (System.ComponentModel.Win32Exception)
            {
                try { Interop.Unmount(Unmounts[i], detach: true); }
                catch (System.ComponentModel.Win32Exception e) { problems.Add(e.Message); }
            }
        }
        Unmounts.Clear();
        return problems;
    }

    /// <summary>Unmounts, releases, then deletes the step's directory; returns what could not be undone.</summary>
    public List<string> Cleanup()
    {
        List<string> problems = UnmountAll();
        problems.AddRange(DetachLeftoverMounts());
        for (int i = Releases.Count - 1; i >= 0; i--)
        {
            try { Releases[i](); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SemaphoreFullException) { problems.Add(e.Message); }
        }
        Releases.Clear();
        if (!System.IO.Directory.Exists(Directory)) { return problems; }
        if (MountTable.MountPointsUnder(Directory) is { Count: > 0 } mounted)
        {
            // Deleting through a mount would delete inside it: leave the directory for the next executor's recovery.
            problems.Add($"{Directory} is left in place: {string.Join(", ", mounted)} could not be unmounted");
            return problems;
        }
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { problems.Add($"removing {Directory}: {e.Message}"); }
        return problems;
    }

    /// <summary>
    /// Anything still mounted under the step directory that was not registered (or did not unmount) is detached:
    /// the mount table, not the step's own bookkeeping, decides that nothing is left.
    /// </summary>
    private List<string> DetachLeftoverMounts()
    {
        var problems = new List<string>();
        for (int round = 0; round < MaxDetachRounds; round++)
        {
            List<string> mounted = MountTable.MountPointsUnder(Directory);
            if (mounted.Count == 0) { break; }
            foreach (string point in mounted)
            {
                try { Interop.Unmount(point, detach: true); }
                catch (System.ComponentModel.Win32Exception e) { problems.Add(e.Message); }
            }
        }
        return problems;
    }
}
