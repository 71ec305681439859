using Dbuild.Registry.Hosting;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dbuild.Registry.Gc;

/// <summary>
/// registry:2's <c>registry garbage-collect CONFIG [--dry-run] [--delete-untagged]</c>: one mark-and-sweep pass with
/// no grace period, printing registry:2's lines. As with registry:2, the operator promises that nothing writes to the
/// storage meanwhile (stop the registry or put it in read-only mode); uploads are left to upload purging.
/// </summary>
public static class OfflineGarbageCollector
{
    public static Task<GcSummary> RunAsync(IStorageDriver driver, bool dryRun, bool deleteUntagged, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        TimeProvider time = TimeProvider.System;
        var storage = new RegistryStorage(driver, new BlobMarkers(driver, time, enabled: false, TimeSpan.Zero), time, NullLogger<RegistryStorage>.Instance);
        return GcService.RunPassAsync(storage, new GcSettings(TimeSpan.Zero, deleteUntagged, dryRun, Online: false), time, output.WriteLine, cancellationToken);
    }
}
