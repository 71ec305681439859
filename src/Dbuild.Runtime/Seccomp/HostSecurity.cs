using System.Globalization;
using System.Runtime.Versioning;

namespace Dbuild.Runtime;

/// <summary>What this process may hand to a step: its effective capabilities, whether the kernel filters syscalls, its version.</summary>
internal static class HostSecurity
{
    /// <summary>Capability names by bit number (linux/capability.h, up to CAP_CHECKPOINT_RESTORE).</summary>
    private static readonly string[] Names =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
        "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    private static readonly Lazy<string[]> StatusLines = new(() =>
    {
        try { return File.ReadAllLines("/proc/self/status"); }
        catch (IOException) { return []; }
    });

    /// <summary>
    /// The capabilities of this process's effective set, in bit order: what an insecure step gets, as BuildKit grants
    /// the daemon's current capabilities (all of them as root, those of the user namespace when rootless).
    /// </summary>
    public static IReadOnlyList<string> EffectiveCapabilities { get; } = FromMask(StatusField("CapEff") is { } hex
        ? ulong.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) : 0);

    /// <summary>The kernel has seccomp (its status line exists), so a filter can be applied; otherwise none is, as BuildKit checks.</summary>
    public static bool SeccompAvailable { get; } = StatusField("Seccomp") is not null;

    /// <summary>The running kernel's version (for profile rules with <c>minKernel</c>).</summary>
    public static Version Kernel { get; } = Environment.OSVersion.Version;

    /// <summary>
    /// How many loop devices (/dev/loop0…) an insecure step gets, as BuildKit: up to 7 past the first free one, or 8
    /// when none can be found. None inside a user namespace, where device nodes cannot be made.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public static int InsecureLoopDevices() => HostEnvironment.InUserNamespace ? 0 : (Interop.FreeLoopDevice() ?? 0) + 8;

    /// <summary>The names of the bits set in a capability mask; bits past the known names are left out.</summary>
    internal static string[] FromMask(ulong mask) => [.. Names.Where((_, bit) => (mask & (1UL << bit)) != 0)];

    private static string? StatusField(string name) => StatusLines.Value
        .Where(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault();
}
