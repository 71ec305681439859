using Dbuild.Registry.AzureBlob;
using Dbuild.Registry.Storage;

namespace Dbuild.IntegrationTests.Registry.Drivers;

/// <summary>
/// The driver conformance suite on the Azure driver against Azurite: one Azurite for the class, a fresh container per
/// test, and a <c>rootdirectory</c> so that prefix handling is exercised too.
/// </summary>
public sealed class AzureBlobDriverConformanceTests(AzuriteFixture azurite) : StorageDriverConformance, IClassFixture<AzuriteFixture>
{
    protected override bool HasDownloadUrls => true;

    protected override async Task<IStorageDriver> CreateDriverAsync()
    {
        AzuriteServer server = await azurite.GetAsync(Ct);
        var driver = new AzureBlobDriver(server.CreateServiceClient(), $"conformance-{Guid.NewGuid():N}", "registry/root");
        await driver.EnsureContainerAsync(Ct);
        return driver;
    }
}

/// <summary>One Azurite per test class, started by the first test that needs it (so a missing Azurite skips or fails that test).</summary>
public sealed class AzuriteFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim _start = new(1, 1);
    private AzuriteServer? _server;

    internal async Task<AzuriteServer> GetAsync(CancellationToken cancellationToken)
    {
        AzuriteServer.RequireAzurite();
        await _start.WaitAsync(cancellationToken);
        try { return _server ??= await AzuriteServer.StartAsync(cancellationToken); }
        finally { _start.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) { await _server.DisposeAsync(); }
        _start.Dispose();
    }
}
