using System.Text.Json;

namespace Dbuild.Runtime.Tests;

/// <summary>/etc/hosts and resolv.conf as BuildKit writes them, and the default network's namespace in the spec.</summary>
public sealed class NetworkFilesTests
{
    [Fact]
    public void Hosts_LocalhostLinesThenExtraHosts()
    {
        Assert.Equal("127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tdb\n2001:db8::1\tv6\n",
            NetworkFiles.Hosts("buildkitsandbox", [new("db", "10.1.2.3"), new("v6", "2001:db8::1")]));
    }

    [Fact]
    public void ResolvConf_OwnNamespace_DropsLocalhostNameserversKeepsTheRest()
    {
        Assert.Equal("search example.org\nnameserver 10.0.0.2\noptions ndots:2\n",
            NetworkFiles.ForOwnNamespace("search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\noptions ndots:2\n"));
    }

    [Fact]
    public void ResolvConf_OwnNamespace_OnlyLocalhost_PublicDefaultsAppended()
    {
        string result = NetworkFiles.ForOwnNamespace("nameserver 127.0.0.1\n");
        Assert.Equal(["8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"], NetworkFiles.Nameservers(result));
    }

    [Fact]
    public void ResolvConf_HostNetwork_KeptAsIs_UnlessItNamesNoNameserver()
    {
        Assert.Equal("nameserver 127.0.0.53\n", NetworkFiles.ForHostNetwork("nameserver 127.0.0.53\n"));
        Assert.Equal(["8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"], NetworkFiles.Nameservers(NetworkFiles.ForHostNetwork("")));
    }

    [Fact]
    public void Spec_DefaultNetwork_JoinsTheNamespaceByPath_AndMountsSysfsRootless()
    {
        using var stream = new MemoryStream();
        SpecBuilder.Write(stream, new SpecInput
        {
            RootfsPath = "/r", Args = ["/bin/true"], Env = [], Cwd = "/", User = new ResolvedUser(0, 0, [], null), Hostname = "h",
            Network = StepNetwork.Default, NetworkNamespacePath = "/proc/42/ns/net", InUserNamespace = true, Host = new SpecHost("amd64", new Version(6, 1), null, [], 0),
        });
        JsonElement spec = JsonDocument.Parse(stream.ToArray()).RootElement;
        JsonElement network = spec.GetProperty("linux").GetProperty("namespaces").EnumerateArray().Single(n => n.GetProperty("type").GetString() == "network");
        Assert.Equal("/proc/42/ns/net", network.GetProperty("path").GetString());
        JsonElement sys = spec.GetProperty("mounts").EnumerateArray().Single(m => m.GetProperty("destination").GetString() == "/sys");
        Assert.Equal("sysfs", sys.GetProperty("type").GetString()); // the namespace is ours: sysfs shows its own devices
    }
}
