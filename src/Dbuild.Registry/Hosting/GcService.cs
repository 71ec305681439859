using Dbuild.Registry.Gc;
using Dbuild.Registry.Observability;
using Dbuild.Registry.Policies;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Hosting;

/// <summary>
/// Online garbage collection (<c>storage.maintenance.gc</c>): a mark-and-sweep pass every <c>interval</c> while the
/// registry serves, with no read-only window (docs/registry-gc.md). Off in read-only mode. One summary line per pass.
/// </summary>
internal sealed class GcService(RegistryStorage storage, IOptions<RegistryOptions> options, TimeProvider timeProvider, GcMetrics metrics, ILogger<GcService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        RegistryOptions settings = options.Value;
        if (!settings.GcEnabled || settings.ReadOnly) { return; }
        using var timer = new PeriodicTimer(settings.GcInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunOnceAsync(dryRun: false, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: a pass cut short releases what it condemned; the next one starts over.
        }
    }

    /// <summary>One pass; failures are logged, never fatal. Returns null when the pass failed.</summary>
    public async Task<GcSummary?> RunOnceAsync(bool dryRun, CancellationToken cancellationToken)
    {
        RegistryOptions settings = options.Value;
        try
        {
            var retention = new RetentionPass(storage, settings.Policies, timeProvider, logger);
            GcSummary summary = await RunPassAsync(storage, new GcSettings(settings.GcGrace, settings.GcDeleteUntagged, dryRun, Online: true),
                timeProvider, line => Log.GcDetail(logger, line), cancellationToken, retention).ConfigureAwait(false);
            if (retention.Enabled) { Log.RetentionPassDone(logger, summary.TagsRemoved, summary.DryRun); }
            Log.GcPassDone(logger, summary.Marked, summary.BlobsSwept, summary.BytesFreed, summary.ManifestsSwept, summary.LinksSwept,
                summary.UploadsSwept, (long)summary.Duration.TotalMilliseconds, summary.DryRun);
            metrics.PassDone(summary, timeProvider.GetUtcNow());
            return summary;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Any failure (a driver's own exception types included) ends this pass only: the registry keeps serving.
            Log.GcPassFailed(logger, ex);
            metrics.PassFailed();
            return null;
        }
    }

    /// <summary>One pass: <c>policies.retention</c> first (when given), then mark and sweep.</summary>
    internal static async Task<GcSummary> RunPassAsync(RegistryStorage storage, GcSettings settings, TimeProvider timeProvider, Action<string> emit,
        CancellationToken cancellationToken, RetentionPass? retentionPass = null)
    {
        DateTimeOffset markStart = timeProvider.GetUtcNow();
        long started = timeProvider.GetTimestamp();
        RetentionResult retention = retentionPass is null ? new RetentionResult()
            : await retentionPass.RunAsync(settings.DryRun, emit, cancellationToken).ConfigureAwait(false);
        MarkResult mark = await new GarbageCollector(storage).MarkAsync(settings.DeleteUntagged, emit, cancellationToken, retention).ConfigureAwait(false);
        GcSummary summary = await new GcSweeper(storage, storage.Markers).SweepAsync(mark, settings, markStart, emit, cancellationToken).ConfigureAwait(false);
        return summary with { Duration = timeProvider.GetElapsedTime(started), TagsRemoved = retention.TagsRemoved };
    }
}
