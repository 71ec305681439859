using Dbuild.Registry.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Hosting;

/// <summary>
/// Deletes uploads abandoned longer than <c>storage.maintenance.uploadpurging.age</c>, every <c>interval</c>
/// (registry:2's uploadpurging). Off in read-only mode.
/// </summary>
internal sealed class UploadPurger(RegistryStorage storage, IOptions<RegistryOptions> options, TimeProvider timeProvider, ILogger<UploadPurger> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        RegistryOptions settings = options.Value;
        if (!settings.UploadPurgingEnabled || settings.ReadOnly) { return; }
        using var timer = new PeriodicTimer(settings.UploadPurgingInterval, timeProvider);
        try
        {
            do
            {
                await PurgeOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Stopping (also when the host never started, e.g. the port was taken): not a failure of the purge.
        }
    }

    /// <summary>One purge pass; failures are logged, never fatal.</summary>
    public async Task<int> PurgeOnceAsync(CancellationToken cancellationToken)
    {
        RegistryOptions settings = options.Value;
        try
        {
            int count = await storage.PurgeUploadsAsync(timeProvider.GetUtcNow() - settings.UploadPurgingAge, settings.UploadPurgingDryRun, cancellationToken)
                .ConfigureAwait(false);
            Log.UploadPurgeDone(logger, count, settings.UploadPurgingAge);
            return count;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.UploadPurgeFailed(logger, ex);
            return 0;
        }
    }
}
