using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// A test host on this machine: a network namespace of its own (<c>ip netns add</c>, a unique name) joined to the
/// host's by a veth pair with addresses from 10.199.N.0/30 (N free on this machine), serving a directory over HTTP with
/// busybox httpd inside the namespace. Reached from the host (and so through slirp4netns) as <see cref="Url"/>; the
/// namespace, the pair and the server are removed on dispose, and by <see cref="StartAsync"/> itself when it fails.
/// </summary>
internal sealed class NetnsHttpHost : IAsyncDisposable
{
    private const int Port = 8080;
    private readonly string _namespace;
    private readonly string _hostLink;
    private Process? _server;

    private NetnsHttpHost(string name, string hostLink, string address) => (_namespace, _hostLink, Address) = (name, hostLink, address);

    /// <summary>The test host's address, inside its namespace.</summary>
    public string Address { get; }

    public string Url(string file) => $"http://{Address}:{Port.ToString(CultureInfo.InvariantCulture)}/{file}";

    public static async Task<NetnsHttpHost> StartAsync(string directory, string probe, CancellationToken ct)
    {
        Prerequisites.RequireRoot("ip netns add and a veth pair for the test host");
        string ip = Prerequisites.RequireTool("ip", "iproute2");
        string busybox = Prerequisites.RequireTool("busybox", "busybox-static");
        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        string used = (await ProcessRunner.RunAsync(ip, ["-4", "-o", "addr"], ct)).EnsureSuccess().StandardOutput;
        int subnet = Enumerable.Range(0, 64).Select(_ => RandomNumberGenerator.GetInt32(1, 255)).First(n => !used.Contains($" 10.199.{n}.", StringComparison.Ordinal));
        var host = new NetnsHttpHost("dbuild-" + id, "vdb" + id, $"10.199.{subnet}.2");
        try
        {
            string peer = "vdn" + id;
            foreach (string[] command in new string[][]
            {
                ["netns", "add", host._namespace],
                ["link", "add", host._hostLink, "type", "veth", "peer", "name", peer],
                ["link", "set", peer, "netns", host._namespace],
                ["addr", "add", $"10.199.{subnet}.1/30", "dev", host._hostLink],
                ["link", "set", host._hostLink, "up"],
                ["-n", host._namespace, "addr", "add", $"10.199.{subnet}.2/30", "dev", peer],
                ["-n", host._namespace, "link", "set", peer, "up"],
                ["-n", host._namespace, "link", "set", "lo", "up"],
            })
            {
                (await ProcessRunner.RunAsync(ip, command, ct)).EnsureSuccess();
            }
            host._server = Process.Start(new ProcessStartInfo(ip)
            {
                ArgumentList = { "netns", "exec", host._namespace, busybox, "httpd", "-f", "-p", $"{host.Address}:{Port}", "-h", directory },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            for (int i = 0; i < 50; i++)
            {
                try
                {
                    if ((await http.GetAsync(new Uri(host.Url(probe)), ct)).IsSuccessStatusCode) { return host; }
                }
                catch (HttpRequestException) { await Task.Delay(100, ct); }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            }
            throw new InvalidOperationException($"busybox httpd in namespace {host._namespace} did not serve {host.Url(probe)}.");
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            if (!_server.HasExited) { _server.Kill(); }
            await _server.WaitForExitAsync(CancellationToken.None);
            _server.Dispose();
        }
        // Deleting the namespace removes the peer, and with it the pair; the host end is removed too in case the peer never moved.
        await ProcessRunner.RunAsync("ip", ["link", "del", _hostLink], CancellationToken.None);
        await ProcessRunner.RunAsync("ip", ["netns", "del", _namespace], CancellationToken.None);
    }
}
