using System.CommandLine;

namespace Dbuild.Cli;

/// <summary>Options every verb understands.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string?> Root = new("--root")
    {
        Description = "State root holding the content store, snapshots and build cache (default: $DBUILD_ROOT, /var/lib/dbuild as root, $XDG_DATA_HOME/dbuild otherwise).",
        Recursive = true,
    };

    public static readonly Option<bool> Debug = new("--debug")
    {
        Description = "Verbose logging; errors include the stack trace.",
        Recursive = true,
    };

    /// <summary>Resolves the state root the way DESIGN.md decision 3 says.</summary>
    public static string ResolveRoot(ParseResult parseResult)
    {
        string? explicitRoot = parseResult.GetValue(Root);
        if (!string.IsNullOrEmpty(explicitRoot)) { return Path.GetFullPath(explicitRoot); }
        string? env = Environment.GetEnvironmentVariable("DBUILD_ROOT");
        if (!string.IsNullOrEmpty(env)) { return Path.GetFullPath(env); }
        // Root of a user namespace (dbuild's own rootless one, unshare, rootlesskit) is the user outside: their root, as out there.
        if (OperatingSystem.IsLinux() ? Dbuild.Runtime.RootlessSetup.IsHostRoot : Environment.UserName == "root") { return "/var/lib/dbuild"; }
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string dataHome = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(dataHome, "dbuild");
    }
}
