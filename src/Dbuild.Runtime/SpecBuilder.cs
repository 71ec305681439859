using System.Text.Json;

namespace Dbuild.Runtime;

/// <summary>One mount of the runtime spec.</summary>
internal sealed record SpecMount(string Destination, string Type, string Source, IReadOnlyList<string> Options);

/// <summary>What the runtime spec is generated from.</summary>
internal sealed record SpecInput
{
    public required string RootfsPath { get; init; }
    public required IReadOnlyList<string> Args { get; init; }
    public required IReadOnlyList<string> Env { get; init; }
    public required string Cwd { get; init; }
    public required ResolvedUser User { get; init; }
    public required string Hostname { get; init; }
    public required StepNetwork Network { get; init; }

    /// <summary>The network namespace to join (the default network's, made by <see cref="SlirpNetwork"/>); null = a new one (none) or the host's.</summary>
    public string? NetworkNamespacePath { get; init; }

    /// <summary>Running as root inside a user namespace (rootless): no cgroup mount, sysfs bound rather than mounted.</summary>
    public bool InUserNamespace { get; init; }

    public IReadOnlyList<SpecMount> ExtraMounts { get; init; } = [];

    /// <summary>
    /// <c>RUN --security=insecure</c>, as BuildKit's insecure mode: every capability of <see cref="Host"/>, no seccomp
    /// filter, no masked or read-only paths, writable /sys and cgroupfs, all devices allowed (and the usual ones created).
    /// </summary>
    public bool Insecure { get; init; }

    /// <summary>The host the seccomp rules and the insecure capabilities and devices are taken from.</summary>
    public required SpecHost Host { get; init; }
}

/// <summary>
/// Writes an OCI runtime-spec <c>config.json</c> with the defaults Docker and BuildKit use: Docker's capability set,
/// masked and read-only paths, /proc, /dev (tmpfs, devpts, shm, mqueue), read-only /sys, namespaces mount, pid, ipc,
/// uts and network unless the host's network is used (the default network's namespace is joined by path).
/// </summary>
/// <remarks>https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config.md</remarks>
internal static class SpecBuilder
{
    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    internal static readonly string[] DefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    internal static readonly string[] MaskedPaths =
    [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    internal static readonly string[] ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>The standard mounts every step gets, before the step's own.</summary>
    internal static List<SpecMount> DefaultMounts(SpecInput input)
    {
        var mounts = new List<SpecMount>
        {
            new("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
            new("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            new("/dev/pts", "devpts", "devpts", input.InUserNamespace
                ? ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
                : ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            new("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            new("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        };
        if (input.InUserNamespace && input.Network == StepNetwork.Host)
        {
            // sysfs can only be mounted by the owner of the network namespace (ours own the ones we make); bind the host's
            // instead (as rootless runc specs do).
            mounts.Add(new("/sys", "none", "/sys", ["rbind", "nosuid", "noexec", "nodev", "ro"]));
        }
        else
        {
            mounts.Add(new("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]));
            if (!input.InUserNamespace) { mounts.Add(new("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "relatime", "ro"])); }
        }
        if (input.Insecure) { mounts = [.. mounts.Select(m => m.Options.Contains("ro") ? m with { Options = [.. m.Options.Where(o => o != "ro")] } : m)]; }
        return mounts;
    }

    public static void Write(Stream destination, SpecInput input)
    {
        using var json = new Utf8JsonWriter(destination, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("ociVersion", "1.0.2");

        json.WriteStartObject("process");
        json.WriteBoolean("terminal", false);
        json.WriteStartObject("user");
        json.WriteNumber("uid", input.User.Uid);
        json.WriteNumber("gid", input.User.Gid);
        if (input.User.AdditionalGids.Count > 0) { WriteNumbers(json, "additionalGids", input.User.AdditionalGids); }
        json.WriteEndObject();
        WriteStrings(json, "args", input.Args);
        WriteStrings(json, "env", input.Env);
        json.WriteString("cwd", input.Cwd);
        IReadOnlyList<string> capabilities = Capabilities(input);
        json.WriteStartObject("capabilities");
        foreach (string set in input.Insecure ? ["bounding", "effective", "inheritable", "permitted", "ambient"] : new[] { "bounding", "effective", "permitted" })
        {
            WriteStrings(json, set, capabilities);
        }
        json.WriteEndObject();
        json.WriteBoolean("noNewPrivileges", false);
        json.WriteEndObject();

        json.WriteStartObject("root");
        json.WriteString("path", input.RootfsPath);
        json.WriteBoolean("readonly", false);
        json.WriteEndObject();
        json.WriteString("hostname", input.Hostname);

        json.WriteStartArray("mounts");
        foreach (SpecMount mount in DefaultMounts(input).Concat(input.ExtraMounts))
        {
            json.WriteStartObject();
            json.WriteString("destination", mount.Destination);
            json.WriteString("type", mount.Type);
            json.WriteString("source", mount.Source);
            WriteStrings(json, "options", mount.Options);
            json.WriteEndObject();
        }
        json.WriteEndArray();

        json.WriteStartObject("linux");
        json.WriteStartArray("namespaces");
        foreach (string ns in new[] { "pid", "ipc", "uts", "mount" })
        {
            json.WriteStartObject();
            json.WriteString("type", ns);
            json.WriteEndObject();
        }
        if (input.Network != StepNetwork.Host)
        {
            json.WriteStartObject();
            json.WriteString("type", "network");
            if (input.NetworkNamespacePath is { } netns) { json.WriteString("path", netns); }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        WriteSecurity(json, input, capabilities);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Docker's set; in insecure mode also every capability the host can grant (BuildKit adds its current ones).</summary>
    internal static IReadOnlyList<string> Capabilities(SpecInput input) =>
        input.Insecure ? [.. DefaultCapabilities.Union(input.Host.Capabilities, StringComparer.Ordinal)] : DefaultCapabilities;

    /// <summary>
    /// The device cgroup, masked and read-only paths and seccomp: in sandbox mode Docker's defaults (devices denied, the
    /// default profile's rules for the step's capabilities on this host); insecure, as BuildKit's <c>WithInsecureSpec</c>.
    /// </summary>
    private static void WriteSecurity(Utf8JsonWriter json, SpecInput input, IReadOnlyList<string> capabilities)
    {
        if (!input.InUserNamespace)
        {
            json.WriteStartObject("resources");
            json.WriteStartArray("devices");
            foreach (string type in input.Insecure ? ["c", "b"] : new[] { "a" })
            {
                json.WriteStartObject();
                json.WriteBoolean("allow", input.Insecure);
                if (input.Insecure) { json.WriteString("type", type); }
                json.WriteString("access", "rwm");
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            if (input.Insecure) { WriteInsecureDevices(json, input.Host.LoopDevices); }
        }
        WriteStrings(json, "maskedPaths", input.Insecure ? [] : MaskedPaths);
        WriteStrings(json, "readonlyPaths", input.Insecure ? [] : ReadonlyPaths);
        if (!input.Insecure && input.Host.Seccomp is { } profile)
        {
            profile.Resolve(capabilities, input.Host.Architecture, input.Host.Kernel).Write(json);
        }
    }

    /// <summary>The devices BuildKit creates in insecure mode: kmsg, cuse, fuse, kvm, tun, loop-control and loop devices.</summary>
    private static void WriteInsecureDevices(Utf8JsonWriter json, int loopDevices)
    {
        json.WriteStartArray("devices");
        (string Path, string Type, int Major, int Minor)[] devices =
        [
            ("/dev/kmsg", "c", 1, 11), ("/dev/cuse", "c", 10, 203), ("/dev/fuse", "c", 10, 229), ("/dev/kvm", "c", 10, 232),
            ("/dev/net/tun", "c", 10, 200), ("/dev/loop-control", "c", 10, 237),
            .. Enumerable.Range(0, loopDevices).Select(i => ($"/dev/loop{i}", "b", 7, i)),
        ];
        foreach ((string path, string type, int major, int minor) in devices)
        {
            json.WriteStartObject();
            json.WriteString("path", path);
            json.WriteString("type", type);
            json.WriteNumber("major", major);
            json.WriteNumber("minor", minor);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>Env with PATH defaulted, as BuildKit does when the image sets none.</summary>
    public static List<string> WithDefaultPath(IEnumerable<string> env)
    {
        var result = env.ToList();
        if (!result.Any(e => e.StartsWith("PATH=", StringComparison.Ordinal))) { result.Insert(0, DefaultPath); }
        return result;
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values) { json.WriteStringValue(value); }
        json.WriteEndArray();
    }

    private static void WriteNumbers(Utf8JsonWriter json, string name, IEnumerable<int> values)
    {
        json.WriteStartArray(name);
        foreach (int value in values) { json.WriteNumberValue(value); }
        json.WriteEndArray();
    }
}
