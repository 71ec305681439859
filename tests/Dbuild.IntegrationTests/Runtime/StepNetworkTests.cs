using System.Net;
using System.Net.Sockets;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Runtime;

/// <summary>
/// The default network of a step at the runtime's level, as root and (run by <see cref="Build.NetworkSandboxTests"/>
/// as the unprivileged test user) rootless: its own namespace with lo and slirp4netns's tap0, a test host reachable
/// (<see cref="TestHostUrlVariable"/>: the URL of a file on a host in a network namespace the caller made), the host's
/// 127.0.0.1 not (directly, nor through slirp's 10.0.2.2), and nothing left in the namespace after the step.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StepNetworkTests(RuntimeFixture fixture) : IClassFixture<RuntimeFixture>
{
    /// <summary>Set by the caller to a test host's URL; without it, root makes its own test host.</summary>
    public const string TestHostUrlVariable = "DBUILD_TEST_NETWORK_HOST_URL";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<List<string>> RunAsync(string script)
    {
        RuntimeFixture.RequireRuntime();
        Prerequisites.RequireTool("slirp4netns", "slirp4netns");
        var output = new List<string>();
        await fixture.CreateExecutor().RunAsync(RuntimeFixture.Shell(RuntimeFixture.BusyboxLayers(), script, output), Token);
        Assert.Empty(fixture.LeftoverMounts());
        return output;
    }

    [Fact]
    public async Task Default_OwnNamespaceWithTap_HostLoopbackUnreachable_NothingLeftAfter()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        List<string> output = await RunAsync(
            "ls /sys/class/net; readlink /proc/self/ns/net; " +
            $"for a in 127.0.0.1 10.0.2.2; do if nc -w 3 $a {port} </dev/null 2>/dev/null; then echo \"$a reached\"; else echo \"$a unreachable\"; fi; done");
        Assert.Equal(["lo", "tap0"], output.Take(2));
        Assert.Equal(["127.0.0.1 unreachable", "10.0.2.2 unreachable"], output.Skip(3));
        Assert.False(listener.Pending(), "no connection reached the host's loopback");
        string netns = output[2];
        Assert.StartsWith("net:[", netns, StringComparison.Ordinal);
        Assert.NotEqual(new FileInfo("/proc/self/ns/net").LinkTarget, netns);
        Assert.Empty(ProcessesIn(netns)); // slirp4netns and the namespace's holder are gone with the step
    }

    [Fact]
    public async Task Default_ReachesTestHost()
    {
        using var www = new TempDirectory("dbuild-nethost-");
        await File.WriteAllTextAsync(www.Combine("hello.txt"), "from the test host", Token);
        await using Build.NetnsHttpHost? own = Environment.GetEnvironmentVariable(TestHostUrlVariable) is { Length: > 0 } ? null
            : await Build.NetnsHttpHost.StartAsync(www.Path, "hello.txt", Token);
        string url = own?.Url("hello.txt") ?? Environment.GetEnvironmentVariable(TestHostUrlVariable)!;
        List<string> output = await RunAsync($"timeout 20 wget -q -O- {url}");
        Assert.Equal(["from the test host"], output);
    }

    /// <summary>Processes (of those this user may inspect) in the network namespace <paramref name="netns"/> (<c>net:[inode]</c>).</summary>
    private static List<string> ProcessesIn(string netns)
    {
        var found = new List<string>();
        foreach (string proc in Directory.EnumerateDirectories("/proc").Where(d => Path.GetFileName(d).All(char.IsAsciiDigit)))
        {
            try
            {
                if (new FileInfo(Path.Combine(proc, "ns", "net")).LinkTarget == netns) { found.Add(File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ')); }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return found;
    }
}
