using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Azure.Storage;
using Azure.Storage.Blobs;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// Azurite's blob service (npm's <c>azurite</c>, installed by testdata/ci/setup.sh) on 127.0.0.1 and a free port, its
/// data in a temporary folder; stopped and removed on dispose. Outside CI a missing Azurite skips the test.
/// </summary>
internal sealed class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account (public, documented by Azurite; not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private readonly TempDirectory _data;
    private readonly StringBuilder _output = new();

    private AzuriteServer(Process process, TempDirectory data, int port)
    {
        (_process, _data, Port) = (process, data, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_output) { _output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_output) { _output.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    /// <summary>The blob service URL (path-style, as Azurite serves it): registry:2's <c>storage.azure.serviceurl</c>.</summary>
    public Uri ServiceUrl => new($"http://127.0.0.1:{Port}/{AccountName}");

    public string Output { get { lock (_output) { return _output.ToString(); } } }

    /// <summary>Skips (fails under CI) unless Azurite is installed; returns its blob-only executable.</summary>
    public static string RequireAzurite()
    {
        string? tool = Prerequisites.FindTool("azurite-blob") ?? Prerequisites.FindTool("azurite");
        Prerequisites.Require(tool is not null, "'azurite-blob' not found; install it with 'npm install -g azurite' (bash testdata/ci/setup.sh does)");
        return tool!;
    }

    public static async Task<AzuriteServer> StartAsync(CancellationToken cancellationToken)
    {
        string tool = RequireAzurite();
        var data = new TempDirectory("dbuild-azurite-");
        int port = RegistryServer.FreePort();
        var startInfo = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])["--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--location", data.Path, "--skipApiVersionCheck", "--disableTelemetry", "--loose", "--silent"])
        {
            startInfo.ArgumentList.Add(argument);
        }
        var server = new AzuriteServer(Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {tool}."), data, port);
        for (int attempt = 0; attempt < 150; attempt++)
        {
            if (server._process.HasExited) { break; }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, cancellationToken);
                return server;
            }
            catch (SocketException) { }
            await Task.Delay(100, cancellationToken);
        }
        string output = server.Output;
        await server.DisposeAsync();
        throw new InvalidOperationException($"Azurite did not start listening on port {port}.\n{output}");
    }

    public BlobServiceClient CreateServiceClient() => new(ServiceUrl, new StorageSharedKeyCredential(AccountName, AccountKey));

    /// <summary>The <c>storage:</c> driver section of a registry config.yml for a container (and prefix) on this Azurite.</summary>
    public string ConfigSection(string container, string rootDirectory = "") => $"""
          azure:
            accountname: {AccountName}
            accountkey: {AccountKey}
            container: {container}
            serviceurl: {ServiceUrl}
            rootdirectory: {rootDirectory}
            credentials:
              type: shared_key
        """;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await _process.WaitForExitAsync(timeout.Token);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException) { }
        _process.Dispose();
        _data.Dispose();
    }
}
