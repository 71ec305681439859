using System.Text.Json;

namespace Dbuild.Runtime.Tests;

/// <summary>The security part of the spec: seccomp in sandbox mode, BuildKit's insecure mode for <c>RUN --security=insecure</c>.</summary>
public sealed class SpecBuilderSecurityTests
{
    private static readonly string[] AllCapabilities = HostSecurity.FromMask(0x1ffffffffff);

    private static JsonElement Build(bool insecure, bool userNamespace = false, SeccompProfile? profile = null)
    {
        using var stream = new MemoryStream();
        SpecBuilder.Write(stream, new SpecInput
        {
            RootfsPath = "/state/rootfs",
            Args = ["/bin/sh", "-c", "make"],
            Env = ["PATH=/bin"],
            Cwd = "/",
            User = new ResolvedUser(0, 0, [], "/root"),
            Hostname = "buildkitsandbox",
            Network = StepNetwork.None,
            InUserNamespace = userNamespace,
            Insecure = insecure,
            Host = new SpecHost("amd64", new Version(6, 1), profile ?? SeccompProfile.Default, AllCapabilities, 2),
        });
        return JsonDocument.Parse(stream.ToArray()).RootElement.Clone();
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static Dictionary<string, JsonElement> Mounts(JsonElement spec) =>
        spec.GetProperty("mounts").EnumerateArray().ToDictionary(m => m.GetProperty("destination").GetString()!, m => m);

    [Fact]
    public void Write_Sandbox_DefaultProfileForDockerCapabilitiesOnTheHost()
    {
        JsonElement linux = Build(insecure: false).GetProperty("linux");
        JsonElement seccomp = linux.GetProperty("seccomp");
        Assert.Equal("SCMP_ACT_ERRNO", seccomp.GetProperty("defaultAction").GetString());
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], Strings(seccomp.GetProperty("architectures")));
        string[] allowed = [.. seccomp.GetProperty("syscalls").EnumerateArray().Where(r => !r.TryGetProperty("args", out _)).SelectMany(r => Strings(r.GetProperty("names")))];
        Assert.Contains("chroot", allowed); // CAP_SYS_CHROOT is in Docker's set
        Assert.DoesNotContain("mount", allowed);
        Assert.Contains("/proc/kcore", Strings(linux.GetProperty("maskedPaths")));
        Assert.False(linux.TryGetProperty("devices", out _));
        Assert.False(linux.GetProperty("resources").GetProperty("devices")[0].GetProperty("allow").GetBoolean());
    }

    [Fact]
    public void Write_SandboxOnKernelWithoutSeccomp_NoFilter()
    {
        using var stream = new MemoryStream();
        SpecBuilder.Write(stream, new SpecInput
        {
            RootfsPath = "/r", Args = ["/bin/true"], Env = [], Cwd = "/", User = new ResolvedUser(0, 0, [], null), Hostname = "h",
            Network = StepNetwork.None, Host = new SpecHost("amd64", new Version(6, 1), null, [], 0),
        });
        Assert.False(JsonDocument.Parse(stream.ToArray()).RootElement.GetProperty("linux").TryGetProperty("seccomp", out _));
    }

    [Fact]
    public void Write_Insecure_AllHostCapabilitiesInEverySet()
    {
        JsonElement capabilities = Build(insecure: true).GetProperty("process").GetProperty("capabilities");
        foreach (string set in (string[])["bounding", "effective", "inheritable", "permitted", "ambient"])
        {
            string[] caps = Strings(capabilities.GetProperty(set));
            Assert.Equal(41, caps.Length);
            Assert.Contains("CAP_SYS_ADMIN", caps);
        }
    }

    [Fact]
    public void Write_Insecure_NoSeccompNoMaskedPathsWritableSysAndDevicesAllowed()
    {
        JsonElement spec = Build(insecure: true);
        JsonElement linux = spec.GetProperty("linux");
        Assert.False(linux.TryGetProperty("seccomp", out _));
        Assert.Empty(Strings(linux.GetProperty("maskedPaths")));
        Assert.Empty(Strings(linux.GetProperty("readonlyPaths")));
        Dictionary<string, JsonElement> mounts = Mounts(spec);
        Assert.DoesNotContain("ro", Strings(mounts["/sys"].GetProperty("options")));
        Assert.DoesNotContain("ro", Strings(mounts["/sys/fs/cgroup"].GetProperty("options")));
        Assert.Equal(["c", "b"], linux.GetProperty("resources").GetProperty("devices").EnumerateArray()
            .Select(d => d.GetProperty("allow").GetBoolean() ? d.GetProperty("type").GetString()! : "denied"));
        Assert.Equal(["/dev/kmsg", "/dev/cuse", "/dev/fuse", "/dev/kvm", "/dev/net/tun", "/dev/loop-control", "/dev/loop0", "/dev/loop1"],
            linux.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("path").GetString()!));
    }

    [Fact]
    public void Write_InsecureInUserNamespace_NoDevicesNoCgroupRules()
    {
        JsonElement linux = Build(insecure: true, userNamespace: true).GetProperty("linux");
        Assert.False(linux.TryGetProperty("devices", out _)); // device nodes cannot be made in a user namespace
        Assert.False(linux.TryGetProperty("resources", out _));
        Assert.False(linux.TryGetProperty("seccomp", out _));
    }

    [Fact]
    public void Write_SandboxInUserNamespace_StillFiltered()
    {
        Assert.True(Build(insecure: false, userNamespace: true).GetProperty("linux").TryGetProperty("seccomp", out _)); // runc loads it in the user namespace too
    }
}
