using System.Globalization;

namespace Dbuild.Runtime;

/// <summary>
/// What probing crun found on this machine, kept across processes in the per-boot runtime directory (/run/dbuild as
/// root, $XDG_RUNTIME_DIR/dbuild otherwise; both are emptied at reboot, when the cgroup layout may change): a build
/// process that runs a RUN step otherwise starts one or two probe containers first, ~0.1 s of a cold build. The record
/// names the crun binary it was made with (path, size, modification time), so an upgraded crun is probed again.
/// </summary>
internal static class CrunProbeRecord
{
    private const string FileName = "crun-probe-v1";

    public static (bool Works, bool NeedsWrapper)? TryRead(string crun)
    {
        if (Location() is not { } file || Identity(crun) is not { } identity) { return null; }
        try
        {
            string[] lines = File.ReadAllLines(file);
            return lines.Length == 3 && lines[0] == identity && bool.TryParse(lines[1], out bool works) && bool.TryParse(lines[2], out bool wrap)
                ? (works, wrap) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    public static void TryWrite(string crun, bool works, bool needsWrapper)
    {
        if (Location() is not { } file || Identity(crun) is not { } identity) { return; }
        string temp = $"{file}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllLines(temp, [identity, works.ToString(), needsWrapper.ToString()]);
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a cache: the next process probes again.
            try { File.Delete(temp); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
        }
    }

    private static string? Location()
    {
        string? runtimeDirectory = Environment.UserName == "root" ? "/run" : Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        return string.IsNullOrEmpty(runtimeDirectory) || !Directory.Exists(runtimeDirectory) ? null : Path.Combine(runtimeDirectory, "dbuild", FileName);
    }

    private static string? Identity(string crun)
    {
        var info = new FileInfo(crun);
        return info.Exists
            ? string.Create(CultureInfo.InvariantCulture, $"{info.FullName} {info.Length} {info.LastWriteTimeUtc.Ticks}")
            : null;
    }
}
