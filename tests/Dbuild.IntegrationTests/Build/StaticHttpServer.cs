using System.Diagnostics;
using System.Globalization;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary><c>python3 -m http.server</c> on 127.0.0.1 serving a directory (404 for what it lacks); stopped on dispose.</summary>
internal sealed class StaticHttpServer : IAsyncDisposable
{
    private readonly Process _process;

    private StaticHttpServer(Process process, int port) => (_process, Port) = (process, port);

    public int Port { get; }

    public string Url(string file) => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{file}";

    /// <summary>Starts serving <paramref name="directory"/> and waits until <paramref name="probe"/> (a file in it) is served.</summary>
    public static async Task<StaticHttpServer> StartAsync(string directory, string probe, CancellationToken ct)
    {
        int port = DistributionRegistry.FreePort();
        var start = new ProcessStartInfo(Prerequisites.RequireTool("python3", "python3"))
        {
            ArgumentList = { "-m", "http.server", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--directory", directory },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var server = new StaticHttpServer(Process.Start(start)!, port);
        server._process.BeginErrorReadLine();
        server._process.BeginOutputReadLine();
        using var http = new HttpClient();
        for (int i = 0; i < 100; i++)
        {
            try
            {
                if ((await http.GetAsync(new Uri(server.Url(probe)), ct)).IsSuccessStatusCode) { return server; }
            }
            catch (HttpRequestException) { await Task.Delay(100, ct); }
        }
        await server.DisposeAsync();
        throw new InvalidOperationException($"python3 http.server on port {port} did not serve {probe}.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) { _process.Kill(); }
        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
    }
}
