using Dbuild.Registry.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Observability;

/// <summary>
/// registry:2's <c>health.storagedriver</c> check, named <c>storagedriver_&lt;driver&gt;</c>: every <c>interval</c> it
/// lists the storage root through the driver (and, for a driver with a local root, checks that the root is a
/// directory); <c>threshold</c> consecutive failures (1 when unset) make the registry unhealthy, one success makes it
/// healthy again. A check slower than the interval is a failure. The state is this replica's own view of the storage.
/// </summary>
internal sealed partial class StorageHealthCheck(IStorageDriver driver, IOptions<RegistryOptions> options, TimeProvider timeProvider,
    ILogger<StorageHealthCheck> logger) : BackgroundService
{
    private readonly RegistryOptions _options = options.Value;
    private int _failures;
    private volatile string? _error;

    public bool Enabled => _options.HealthStorageDriverEnabled;

    public string Name => "storagedriver_" + driver.Name;

    /// <summary>Why the registry is unhealthy, or null when it is healthy.</summary>
    public string? Error => _error;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled) { return; }
        using var timer = new PeriodicTimer(_options.HealthStorageDriverInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Update(await CheckOnceAsync(stoppingToken).ConfigureAwait(false));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs the check once; returns the failure, or null when the storage answered.</summary>
    internal async Task<string?> CheckOnceAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HealthStorageDriverInterval);
        try
        {
            if (driver.GetLocalPath("") is { } root && !Directory.Exists(root))
            {
                return $"{driver.Name}: storage root '{root}' is missing or not a directory";
            }
            await driver.ListAsync("", null, 1, timeout.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return $"{driver.Name}: no answer within {_options.HealthStorageDriverInterval.TotalSeconds:0.###}s";
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Any driver failure (IOException, Azure's RequestFailedException, a refused connection) is the answer.
            return $"{driver.Name}: {ex.GetType().Name}: {FirstLine(ex.Message)}";
        }
    }

    /// <summary>Feeds one result into the threshold: registry:2's single-failure mode when <c>threshold</c> is 0 or 1.</summary>
    internal void Update(string? failure)
    {
        if (failure is null)
        {
            _failures = 0;
            if (_error is not null) { LogHealthy(logger, Name); }
            _error = null;
            return;
        }
        _failures++;
        if (_failures >= Math.Max(1, _options.HealthStorageDriverThreshold))
        {
            if (_error is null) { LogUnhealthy(logger, Name, _failures, failure); }
            _error = failure;
        }
    }

    private static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        return (newline < 0 ? message : message[..newline]).Trim();
    }

    [LoggerMessage(6140, LogLevel.Error, "Health check {Check} failed {Failures} time(s) in a row; the registry answers 503 until it passes: {Failure}")]
    private static partial void LogUnhealthy(ILogger logger, string check, int failures, string failure);

    [LoggerMessage(6141, LogLevel.Information, "Health check {Check} passes again")]
    private static partial void LogHealthy(ILogger logger, string check);
}
