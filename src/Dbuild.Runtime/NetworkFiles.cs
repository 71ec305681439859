using System.Text;
using System.Text.RegularExpressions;

namespace Dbuild.Runtime;

/// <summary>
/// The /etc/hosts and /etc/resolv.conf a RUN step sees, as BuildKit writes them (executor/oci/hosts.go and
/// resolvconf.go, with libnetwork's resolvconf filter): hosts has the localhost lines then each <c>--add-host</c>
/// entry; resolv.conf is the host's, and in a network namespace of the step's own its localhost nameservers are removed
/// (they would point at the step's own loopback), with Google's public servers when none remain.
/// </summary>
internal static partial class NetworkFiles
{
    private const string HostResolvConf = "/etc/resolv.conf";
    private const string SystemdResolvedUpstream = "/run/systemd/resolve/resolv.conf";
    private const string DefaultNameservers = "nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844";

    public static string Hosts(string hostname, IEnumerable<KeyValuePair<string, string>> extraHosts)
    {
        var text = new StringBuilder($"127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        foreach ((string host, string address) in extraHosts) { text.Append(address).Append('\t').Append(host).Append('\n'); }
        return text.ToString();
    }

    public static string ResolvConf(StepNetwork network) =>
        network == StepNetwork.Host ? ForHostNetwork(Read(HostResolvConf)) : ForOwnNamespace(Read(UpstreamPath()));

    /// <summary>The host network keeps the host's file as it is, unless it names no nameserver at all.</summary>
    internal static string ForHostNetwork(string hostFile) => Nameservers(hostFile).Count > 0 ? hostFile : ForOwnNamespace(hostFile);

    /// <summary>Localhost nameservers removed; the public defaults appended when none remain.</summary>
    internal static string ForOwnNamespace(string hostFile)
    {
        string cleaned = LocalhostNameserver().Replace(hostFile, "");
        return Nameservers(cleaned).Count > 0 ? cleaned : cleaned + "\n" + DefaultNameservers;
    }

    internal static List<string> Nameservers(string file) =>
        [.. file.Split('\n').Select(l => l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f is ["nameserver", _, ..]).Select(f => f[1])];

    /// <summary>With systemd-resolved's stub (only 127.0.0.53) the upstream servers are in its other file, as libnetwork's resolvconf.Path reads them.</summary>
    private static string UpstreamPath() =>
        Nameservers(Read(HostResolvConf)) is ["127.0.0.53"] && File.Exists(SystemdResolvedUpstream) ? SystemdResolvedUpstream : HostResolvConf;

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

    [GeneratedRegex(@"^[ \t]*nameserver[ \t]*(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|::1)[ \t]*\n*", RegexOptions.Multiline)]
    private static partial Regex LocalhostNameserver();
}
