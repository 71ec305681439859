using System.Text;
using System.Text.Json;

namespace Dbuild.Runtime.Tests;

public sealed class SeccompProfileTests
{
    private static readonly Version Kernel61 = new(6, 1);

    /// <summary>What a sandboxed step gets: Docker's 14 capabilities (no CAP_SYS_ADMIN, CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH).</summary>
    private static LinuxSeccomp Docker(string arch = "amd64", Version? kernel = null) =>
        SeccompProfile.Default.Resolve(SpecBuilder.DefaultCapabilities, arch, kernel ?? Kernel61);

    private static HashSet<string> Allowed(LinuxSeccomp seccomp) =>
        [.. seccomp.Syscalls.Where(r => r.Action == "SCMP_ACT_ALLOW" && r.Args.Count == 0).SelectMany(r => r.Names)];

    [Fact]
    public void Resolve_DockerCapsOnAmd64_ErrnoEpermForEverythingNotListed()
    {
        LinuxSeccomp seccomp = Docker();
        Assert.Equal("SCMP_ACT_ERRNO", seccomp.DefaultAction);
        Assert.Equal(1u, seccomp.DefaultErrnoRet); // EPERM
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], seccomp.Architectures);
        HashSet<string> allowed = Allowed(seccomp);
        foreach (string name in (string[])["read", "openat", "execve", "arch_prctl", "modify_ldt", "chroot", "ptrace", "name_to_handle_at"])
        {
            Assert.Contains(name, allowed);
        }
        // not in the profile, or only with capabilities a sandboxed step lacks, or for other architectures
        foreach (string name in (string[])["add_key", "keyctl", "request_key", "mount", "umount2", "unshare", "setns", "bpf", "reboot",
            "open_by_handle_at", "kcmp", "init_module", "settimeofday", "clock_settime", "acct", "clone", "clone3", "set_tls", "s390_runtime_instr"])
        {
            Assert.DoesNotContain(name, allowed);
        }
    }

    [Fact]
    public void Resolve_DockerCaps_CloneOnlyWithoutNamespaceFlagsAndClone3IsEnosys()
    {
        LinuxSeccomp seccomp = Docker();
        SeccompRule clone = Assert.Single(seccomp.Syscalls, r => r.Names.Contains("clone"));
        Assert.Equal([new SeccompArg(0, 2114060288, 0, "SCMP_CMP_MASKED_EQ")], clone.Args); // CLONE_NEW* flags clear, first argument (not s390's second)
        SeccompRule clone3 = Assert.Single(seccomp.Syscalls, r => r.Names.Contains("clone3"));
        Assert.Equal(("SCMP_ACT_ERRNO", 38u), (clone3.Action, clone3.ErrnoRet)); // ENOSYS: libc falls back to clone
        SeccompRule socket = Assert.Single(seccomp.Syscalls, r => r.Names.Contains("socket"));
        Assert.Equal([new SeccompArg(0, 40, 0, "SCMP_CMP_NE")], socket.Args); // every family but AF_VSOCK
        Assert.Equal([0ul, 8, 131072, 131080, 4294967295], seccomp.Syscalls.Where(r => r.Names.Contains("personality")).Select(r => r.Args.Single().Value));
    }

    [Fact]
    public void Resolve_WithSysAdmin_MountAndNamespacesAllowedAndCloneUnrestricted()
    {
        LinuxSeccomp seccomp = SeccompProfile.Default.Resolve([.. SpecBuilder.DefaultCapabilities, "CAP_SYS_ADMIN"], "amd64", Kernel61);
        HashSet<string> allowed = Allowed(seccomp);
        foreach (string name in (string[])["mount", "umount2", "unshare", "setns", "clone", "clone3", "sethostname"]) { Assert.Contains(name, allowed); }
        Assert.DoesNotContain(seccomp.Syscalls, r => r.Args.Any(a => a.Op == "SCMP_CMP_MASKED_EQ")); // excluded by the capability
        Assert.DoesNotContain(seccomp.Syscalls, r => r.ErrnoRet == 38);
    }

    [Fact]
    public void Resolve_Arm64_ArmArchitecturesAndArmOnlyCalls()
    {
        LinuxSeccomp seccomp = Docker("arm64");
        Assert.Equal(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], seccomp.Architectures);
        HashSet<string> allowed = Allowed(seccomp);
        Assert.Contains("set_tls", allowed);
        Assert.Contains("arm_fadvise64_64", allowed);
        Assert.DoesNotContain("arch_prctl", allowed);
        Assert.DoesNotContain("modify_ldt", allowed);
    }

    [Fact]
    public void Resolve_KernelOlderThanMinKernel_DropsTheRule()
    {
        Assert.Contains("process_vm_readv", Allowed(Docker(kernel: new Version(4, 8))));
        Assert.DoesNotContain("process_vm_readv", Allowed(Docker(kernel: new Version(4, 4)))); // allowed from 4.8 without CAP_SYS_PTRACE
        Assert.Contains("process_vm_readv", Allowed(SeccompProfile.Default.Resolve(["CAP_SYS_PTRACE"], "amd64", new Version(4, 4))));
    }

    [Fact]
    public void Resolve_UnknownArchitecture_NoArchitecturesListed()
    {
        Assert.Empty(Docker("sparc64").Architectures); // the runtime then filters the native architecture only
    }

    [Fact]
    public void Write_SameInputs_SameBytesInProfileOrder()
    {
        string first = Json(Docker()), second = Json(Docker());
        Assert.Equal(first, second);
        using JsonDocument document = JsonDocument.Parse(first);
        JsonElement root = document.RootElement.GetProperty("seccomp");
        Assert.Equal(1, root.GetProperty("defaultErrnoRet").GetInt32());
        JsonElement[] rules = [.. root.GetProperty("syscalls").EnumerateArray()];
        Assert.Equal("accept", rules[0].GetProperty("names")[0].GetString());
        JsonElement clone3 = rules.Single(r => r.GetProperty("names")[0].GetString() == "clone3");
        Assert.Equal(38, clone3.GetProperty("errnoRet").GetInt32());
        JsonElement socket = rules.Single(r => r.GetProperty("names")[0].GetString() == "socket");
        Assert.Equal("""[{"index":0,"value":40,"op":"SCMP_CMP_NE"}]""", socket.GetProperty("args").GetRawText());
        Assert.False(rules[0].TryGetProperty("args", out _));
    }

    [Fact]
    public void Parse_RuleWithoutAction_FailsNamingTheRule()
    {
        using var json = new MemoryStream("""{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["write"]}]}"""u8.ToArray());
        FormatException error = Assert.Throws<FormatException>(() => SeccompProfile.Parse(json));
        Assert.StartsWith("seccomp profile: syscalls[1] is malformed", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0xa80425fbUL, 14)] // Docker's default set, as /proc/self/status shows it inside a container
    [InlineData(0x1ffffffffffUL, 41)] // root on a 5.9+ kernel: every capability up to CAP_CHECKPOINT_RESTORE
    [InlineData(0x3ffffffffffUL, 41)] // a bit past the known names is left out
    public void FromMask_NamesTheSetBits(ulong mask, int count)
    {
        string[] names = HostSecurity.FromMask(mask);
        Assert.Equal(count, names.Length);
        if (count == 14) { Assert.Equal(SpecBuilder.DefaultCapabilities.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal)); }
    }

    [Fact]
    public void Kernel_IsTheRunningKernelsVersion()
    {
        string release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); // e.g. 6.1.0-18-amd64
        Version kernel = HostSecurity.Kernel;
        Assert.StartsWith($"{kernel.Major}.{kernel.Minor}.", release + ".", StringComparison.Ordinal);
        Assert.True(kernel >= new Version(3, 17), $"kernel {kernel} from '{release}'"); // seccomp filters and every minKernel of the profile
    }

    private static string Json(LinuxSeccomp seccomp)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            seccomp.Write(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
