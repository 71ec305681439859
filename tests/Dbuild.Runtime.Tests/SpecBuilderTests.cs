using System.Text.Json;

namespace Dbuild.Runtime.Tests;

public sealed class SpecBuilderTests
{
    private static JsonElement Build(StepNetwork network = StepNetwork.None, bool userNamespace = false)
    {
        using var stream = new MemoryStream();
        SpecBuilder.Write(stream, new SpecInput
        {
            RootfsPath = "/state/rootfs",
            Args = ["/bin/sh", "-c", "make"],
            Env = ["PATH=/bin", "A=b"],
            Cwd = "/src",
            User = new ResolvedUser(1000, 1001, [27, 100], "/home/u"),
            Hostname = "buildkitsandbox",
            Network = network,
            InUserNamespace = userNamespace,
            ExtraMounts = [new SpecMount("/etc/hosts", "bind", "/state/hosts", ["rbind", "ro"])],
            Host = new SpecHost("amd64", new Version(6, 1), null, [], 0),
        });
        return JsonDocument.Parse(stream.ToArray()).RootElement.Clone();
    }

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public void Write_Process_HasArgsEnvCwdUserAndDockerCapabilities()
    {
        JsonElement process = Build().GetProperty("process");
        Assert.Equal(["/bin/sh", "-c", "make"], Strings(process.GetProperty("args")));
        Assert.Equal(["PATH=/bin", "A=b"], Strings(process.GetProperty("env")));
        Assert.Equal("/src", process.GetProperty("cwd").GetString());
        Assert.Equal(1000, process.GetProperty("user").GetProperty("uid").GetInt32());
        Assert.Equal(1001, process.GetProperty("user").GetProperty("gid").GetInt32());
        Assert.Equal([27, 100], process.GetProperty("user").GetProperty("additionalGids").EnumerateArray().Select(e => e.GetInt32()));
        string[] caps = Strings(process.GetProperty("capabilities").GetProperty("bounding"));
        Assert.Equal(14, caps.Length);
        Assert.Contains("CAP_CHOWN", caps);
        Assert.Contains("CAP_NET_BIND_SERVICE", caps);
        Assert.DoesNotContain("CAP_SYS_ADMIN", caps);
        Assert.False(process.GetProperty("terminal").GetBoolean());
    }

    [Fact]
    public void Write_Mounts_ProcDevSysAndExtras()
    {
        JsonElement spec = Build();
        var mounts = spec.GetProperty("mounts").EnumerateArray().ToDictionary(m => m.GetProperty("destination").GetString()!, m => m);
        Assert.Equal("proc", mounts["/proc"].GetProperty("type").GetString());
        Assert.Equal("tmpfs", mounts["/dev"].GetProperty("type").GetString());
        Assert.Equal("devpts", mounts["/dev/pts"].GetProperty("type").GetString());
        Assert.Equal("tmpfs", mounts["/dev/shm"].GetProperty("type").GetString());
        Assert.Equal("mqueue", mounts["/dev/mqueue"].GetProperty("type").GetString());
        Assert.Contains("ro", Strings(mounts["/sys"].GetProperty("options")));
        Assert.Equal("/state/hosts", mounts["/etc/hosts"].GetProperty("source").GetString());
        Assert.Equal("buildkitsandbox", spec.GetProperty("hostname").GetString());
        Assert.Contains("/proc/kcore", Strings(spec.GetProperty("linux").GetProperty("maskedPaths")));
        Assert.Contains("/proc/sys", Strings(spec.GetProperty("linux").GetProperty("readonlyPaths")));
    }

    [Theory]
    [InlineData(StepNetwork.None, true)]
    [InlineData(StepNetwork.Host, false)]
    [InlineData(StepNetwork.Default, true)]
    public void Write_Namespaces_NetworkOnlyWhenIsolated(StepNetwork network, bool hasNetworkNamespace)
    {
        string[] namespaces = [.. Build(network).GetProperty("linux").GetProperty("namespaces").EnumerateArray().Select(n => n.GetProperty("type").GetString()!)];
        Assert.Equal(["pid", "ipc", "uts", "mount"], namespaces.Take(4));
        Assert.Equal(hasNetworkNamespace, namespaces.Contains("network"));
        Assert.DoesNotContain("user", namespaces);
    }

    [Fact]
    public void Write_InUserNamespaceWithHostNetwork_BindsSysAndSkipsCgroups()
    {
        JsonElement spec = Build(StepNetwork.Host, userNamespace: true);
        var mounts = spec.GetProperty("mounts").EnumerateArray().ToDictionary(m => m.GetProperty("destination").GetString()!, m => m);
        Assert.Contains("rbind", Strings(mounts["/sys"].GetProperty("options")));
        Assert.DoesNotContain("/sys/fs/cgroup", mounts.Keys);
        Assert.False(spec.GetProperty("linux").TryGetProperty("resources", out _));
    }

    [Fact]
    public void WithDefaultPath_AddsPathOnlyWhenMissing()
    {
        Assert.Equal([SpecBuilder.DefaultPath, "A=1"], SpecBuilder.WithDefaultPath(["A=1"]));
        Assert.Equal(["PATH=/x"], SpecBuilder.WithDefaultPath(["PATH=/x"]));
    }
}
