using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>Everything one step set up, torn down in reverse whatever the outcome: mounts, held cache locks, the step's directory.</summary>
[SupportedOSPlatform("linux")]
internal sealed class StepContext(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>Mount points, unmounted last-first.</summary>
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

    public List<string> Cleanup()
    {
        List<string> problems = UnmountAll();
        for (int i = Releases.Count - 1; i >= 0; i--)
        {
            try { Releases[i](); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SemaphoreFullException) { problems.Add(e.Message); }
        }
        Releases.Clear();
        try { if (System.IO.Directory.Exists(Directory)) { System.IO.Directory.Delete(Directory, recursive: true); } }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { problems.Add($"removing {Directory}: {e.Message}"); }
        return problems;
    }
}
