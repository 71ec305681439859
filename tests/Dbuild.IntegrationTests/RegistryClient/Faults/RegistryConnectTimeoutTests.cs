using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dbuild.Registry.Client;
using Client = Dbuild.Registry.Client.RegistryClient;

namespace Dbuild.IntegrationTests.RegistryClient.Faults;

/// <summary>
/// The connect timeout against a real listening socket whose accept queue is full: Linux drops further SYNs, so a
/// connect hangs as it does to a registry behind a black-holing firewall.
/// </summary>
public sealed class RegistryConnectTimeoutTests
{
    [Fact]
    public async Task Ping_AcceptQueueFull_ConnectTimesOutAndGivesUpInOneLine()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0); // never accepted: the queue holds one connection
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            // Fill the accept queue until a connect no longer completes at once (bounded).
            for (int i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                using var quick = CancellationTokenSource.CreateLinkedTokenSource(ct);
                quick.CancelAfter(TimeSpan.FromMilliseconds(300));
                try { await filler.ConnectAsync(endpoint, quick.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested) { break; }
            }
            string host = $"127.0.0.1:{endpoint.Port}";
            var hosts = new RegistryHosts();
            using var http = new HttpClient(new RegistryHttpHandler(hosts) { ConnectTimeout = TimeSpan.FromMilliseconds(500) });
            var client = new Client(http, FaultTestImage.Options(maxAttempts: 2) with { Hosts = hosts });
            var clock = Stopwatch.StartNew();

            RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => client.PingAsync(host, ct));

            Assert.StartsWith($"Contacting {host} failed: GET /v2/: ", ex.Message, StringComparison.Ordinal);
            Assert.EndsWith(" (connect timeout), gave up after 2 attempts. Check that the registry is reachable.", ex.Message, StringComparison.Ordinal);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)); // 2 × 0.5 s plus a short backoff
        }
        finally
        {
            foreach (Socket filler in fillers) { filler.Dispose(); }
        }
    }
}
