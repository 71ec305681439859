using Dbuild.Registry.Storage;

namespace Dbuild.IntegrationTests.Registry.Gc;

/// <summary>The GC race on the filesystem driver.</summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryGcRaceTests : GcRaceTestsBase
{
    protected override Task<string> StorageYamlAsync(string work) => Task.FromResult($"""
          filesystem:
            rootdirectory: {StorageRoot(work)}
        """);

    protected override Task<IStorageDriver> OpenStorageAsync(string work) => Task.FromResult<IStorageDriver>(new FileSystemDriver(StorageRoot(work)));
}
