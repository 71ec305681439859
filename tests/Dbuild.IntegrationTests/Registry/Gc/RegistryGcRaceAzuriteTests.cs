using Dbuild.Registry.AzureBlob;
using Dbuild.Registry.Storage;

namespace Dbuild.IntegrationTests.Registry.Gc;

/// <summary>The GC race on the Azure Blob driver, against Azurite.</summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryGcRaceAzuriteTests : GcRaceTestsBase, IAsyncDisposable
{
    private const string Container = "gcrace";
    private AzuriteServer? _azurite;

    protected override async Task<string> StorageYamlAsync(string work)
    {
        _azurite = await AzuriteServer.StartAsync(TestContext.Current.CancellationToken);
        return _azurite.ConfigSection(Container, "/registry");
    }

    protected override Task<IStorageDriver> OpenStorageAsync(string work) =>
        Task.FromResult<IStorageDriver>(new AzureBlobDriver(_azurite!.CreateServiceClient(), Container, "registry"));

    public async ValueTask DisposeAsync()
    {
        if (_azurite is not null) { await _azurite.DisposeAsync(); }
    }
}
