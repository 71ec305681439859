using System.Text.Encodings.Web;
using System.Text.Json;
using Dbuild.Registry.Observability;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Notifications;

/// <summary>
/// Runs notifications in the background: writes each event from <see cref="EventNotifier"/> to the queue of every
/// endpoint that wants it, and runs one <see cref="EndpointSender"/> per endpoint. On shutdown it writes what is still
/// in the channel and switches the notifier to writing directly, so an accepted event is in storage, and is sent after
/// a restart (by this replica or another).
/// </summary>
internal sealed class NotificationService : BackgroundService
{
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly EventNotifier _notifier;
    private readonly NotificationQueue _queue;
    private readonly NotificationMetrics _metrics;
    private readonly ILogger<NotificationService> _logger;
    private readonly EndpointSender[] _senders;
    private readonly HttpClient _http;

    public NotificationService(EventNotifier notifier, IStorageDriver driver, NotificationMetrics metrics, IOptions<RegistryOptions> options,
        TimeProvider time, ILogger<NotificationService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        (_notifier, _metrics, _logger) = (notifier, metrics, logger);
        _queue = new NotificationQueue(driver);
        // Redirects are not followed: a 3xx is a delivery, as in registry:2.
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        string instance = Guid.NewGuid().ToString();
        _senders = options.Value.Notifications.Active
            .Select(e => new EndpointSender(e, metrics.IndexOf(e.Name), _queue, _http, metrics, time, instance, logger)).ToArray();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_notifier.Enabled) { return; }
        foreach (EndpointSender sender in _senders) { Log.NotificationEndpointConfigured(_logger, sender.Endpoint.Name, sender.Endpoint.Url, sender.Endpoint.Timeout); }
        Task[] running = [PersistAsync(stoppingToken), .. _senders.Select(s => Task.Run(() => s.RunAsync(stoppingToken), CancellationToken.None))];
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        foreach (EndpointSender sender in _senders) { sender.Dispose(); }
        _http.Dispose();
        base.Dispose();
    }

    private async Task PersistAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (PendingEvent item in _notifier.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await WriteAsync(item, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Stopping: requests still in flight write their events themselves; the channel's leftovers are written now.
        _notifier.WriteDirectly((item, cancellationToken) => WriteAsync(item, cancellationToken));
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (_notifier.Reader.TryRead(out PendingEvent? item)) { await WriteAsync(item, grace.Token).ConfigureAwait(false); }
    }

    private async Task WriteAsync(PendingEvent item, CancellationToken cancellationToken)
    {
        string name = NotificationQueue.ItemName(item.Time, item.Event.Id);
        byte[]? body = null;
        foreach (EndpointSender sender in _senders)
        {
            NotificationEndpoint endpoint = sender.Endpoint;
            if (!endpoint.Wants(item.Event.Action, item.Event.Target.MediaType)) { continue; }
            body ??= JsonSerializer.SerializeToUtf8Bytes(new EventEnvelope([item.Event]), JsonOptions);
            try
            {
                await _queue.EnqueueAsync(endpoint.Name, name, body, cancellationToken).ConfigureAwait(false);
                _metrics.Queued(_metrics.IndexOf(endpoint.Name));
                sender.Wake();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException)
            {
                Log.NotificationLost(_logger, endpoint.Name, item.Event.Action, item.Event.Target.Repository, ex);
            }
        }
    }
}
