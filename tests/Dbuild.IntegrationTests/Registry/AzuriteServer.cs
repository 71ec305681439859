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

    private readonly TempDirectory _data;
    private ListeningProcess _process;

    private AzuriteServer(ListeningProcess process, TempDirectory data, int port) => (_process, _data, Port) = (process, data, port);

    public int Port { get; }

    /// <summary>The blob service URL (path-style, as Azurite serves it): registry:2's <c>storage.azure.serviceurl</c>.</summary>
    public Uri ServiceUrl => new($"http://127.0.0.1:{Port}/{AccountName}");

    public string Output => _process.Output;

    /// <summary>Skips (fails under CI) unless Azurite is installed; returns its blob-only executable.</summary>
    public static string RequireAzurite()
    {
        string? tool = Prerequisites.FindTool("azurite-blob") ?? Prerequisites.FindTool("azurite");
        Prerequisites.Require(tool is not null, "'azurite-blob' not found; install it with 'npm install -g azurite' (bash testdata/ci/setup.sh does)");
        return tool!;
    }

    public static async Task<AzuriteServer> StartAsync(CancellationToken cancellationToken)
    {
        var data = new TempDirectory("dbuild-azurite-");
        int port = RegistryServer.FreePort();
        try { return new AzuriteServer(await StartProcessAsync(data.Path, port, cancellationToken), data, port); }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    private static Task<ListeningProcess> StartProcessAsync(string data, int port, CancellationToken cancellationToken)
    {
        string[] arguments = ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--location", data, "--skipApiVersionCheck", "--disableTelemetry", "--loose", "--silent"];
        return ListeningProcess.StartAsync(RequireAzurite(), arguments, port, 150, cancellationToken);
    }

    /// <summary>Stops Azurite (its data stays) so clients see the storage go away.</summary>
    public ValueTask StopAsync() => _process.DisposeAsync();

    /// <summary>Starts Azurite again on the same port over the same data, after <see cref="StopAsync"/>.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken) => _process = await StartProcessAsync(_data.Path, Port, cancellationToken);

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
        await _process.DisposeAsync();
        _data.Dispose();
    }
}
