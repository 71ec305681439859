namespace Dbuild.Runtime;

/// <summary>The OCI runtimes on this machine that dbuild can run steps with, found as step execution finds them.</summary>
public static class InstalledRuntimes
{
    private static readonly string[] Names = ["crun", "runc"];

    /// <summary>crun and runc, each with its path when installed.</summary>
    public static IReadOnlyList<(string Name, string Path)> Find() =>
        [.. Names.Select(name => (name, OciRuntime.FindTool(name))).Where(t => t.Item2 is not null).Select(t => (t.name, t.Item2!))];
}
