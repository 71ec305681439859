using Dbuild.Registry.Storage;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.Drivers;

/// <summary>The driver conformance suite on the filesystem driver, one temporary folder per test.</summary>
public sealed class FileSystemDriverConformanceTests : StorageDriverConformance, IDisposable
{
    private readonly TempDirectory _root = new();

    protected override bool HasDownloadUrls => false;

    protected override Task<IStorageDriver> CreateDriverAsync() => Task.FromResult<IStorageDriver>(new FileSystemDriver(_root.Combine("storage")));

    public void Dispose() => _root.Dispose();
}
