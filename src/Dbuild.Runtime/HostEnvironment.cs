using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>Facts about the process's privileges, read once.</summary>
[SupportedOSPlatform("linux")]
internal static class HostEnvironment
{
    /// <summary>Effective uid 0 (possibly inside a user namespace).</summary>
    public static bool IsRoot { get; } = Interop.GetEffectiveUserId() == 0;

    /// <summary>True inside a user namespace that does not map the whole id range (rootless: rootlesskit, <c>unshare --map-root-user</c>).</summary>
    public static bool InUserNamespace { get; } = DetectUserNamespace();

    private static bool DetectUserNamespace()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/self/uid_map").Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return !(fields is ["0", "0", "4294967295"]);
        }
        catch (IOException) { return false; }
    }
}
