using System.Net.Http.Headers;
using Dbuild.Registry.Observability;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Notifications;

/// <summary>
/// Delivers one endpoint's queue, oldest first, one event per POST (as registry:2 does). A failed POST is retried like
/// registry:2's retrying sink: at once until <c>threshold</c> failures in a row, then every <c>backoff</c>, for as long
/// as it takes; later events wait behind it, in storage, so memory stays bounded. 2xx and 3xx answers are deliveries.
/// </summary>
internal sealed class EndpointSender(
    NotificationEndpoint endpoint, int slot, NotificationQueue queue, HttpClient http, NotificationMetrics metrics, TimeProvider time, string instance, ILogger logger) : IDisposable
{
    private const int PageSize = 100;
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly TimeSpan _lease = TimeSpan.FromSeconds(30) + 2 * (endpoint.Timeout + endpoint.Backoff);

    public NotificationEndpoint Endpoint => endpoint;

    /// <summary>Something was queued: look now rather than at the next poll.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0) { try { _wake.Release(); } catch (SemaphoreFullException) { } }
    }

    public void Dispose() => _wake.Dispose();

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            bool sent = false;
            try
            {
                IReadOnlyList<string> names = await queue.OldestAsync(endpoint.Name, PageSize, stoppingToken).ConfigureAwait(false);
                metrics.Pending(slot, names.Count < PageSize ? names.Count : await queue.CountAsync(endpoint.Name, stoppingToken).ConfigureAwait(false));
                foreach (string name in names) { sent |= await DeliverAsync(name, stoppingToken).ConfigureAwait(false); }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                Log.NotificationQueueFailed(logger, endpoint.Name, ex);
            }
            if (!sent)
            {
                try { await _wake.WaitAsync(Poll, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Claims, sends (retrying) and removes one event; false when another replica holds it or it is gone.</summary>
    private async Task<bool> DeliverAsync(string name, CancellationToken stoppingToken)
    {
        string? claim = await queue.TryClaimAsync(endpoint.Name, name, instance, time.GetUtcNow(), time.GetUtcNow() + _lease, stoppingToken).ConfigureAwait(false);
        if (claim is null) { return false; }
        try
        {
            byte[]? body = await queue.ReadAsync(endpoint.Name, name, stoppingToken).ConfigureAwait(false);
            if (body is null)
            {
                await queue.ReleaseAsync(endpoint.Name, name, claim, stoppingToken).ConfigureAwait(false);
                return false; // delivered by another replica meanwhile
            }
            int failures = 0;
            while (true)
            {
                if (failures >= endpoint.Threshold) { await Task.Delay(endpoint.Backoff, time, stoppingToken).ConfigureAwait(false); }
                claim = await queue.RenewAsync(endpoint.Name, name, claim, instance, time.GetUtcNow() + _lease, stoppingToken).ConfigureAwait(false);
                if (claim is null) { return false; } // our lease ran out and another replica took the event over
                if (await PostAsync(body, stoppingToken).ConfigureAwait(false))
                {
                    await queue.CompleteAsync(endpoint.Name, name, claim, stoppingToken).ConfigureAwait(false);
                    metrics.Delivered(slot);
                    return true;
                }
                if (++failures == endpoint.Threshold) { Log.NotificationEndpointFailing(logger, endpoint.Name, failures, endpoint.Backoff); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: hand the event back at once so the next replica (or this one, restarted) sends it.
            if (claim is not null)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await queue.ReleaseAsync(endpoint.Name, name, claim, grace.Token).ConfigureAwait(false);
            }
            throw;
        }
    }

    private async Task<bool> PostAsync(byte[] body, CancellationToken stoppingToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(EventEnvelope.MediaType);
        foreach ((string header, IReadOnlyList<string> values) in endpoint.Headers)
        {
            foreach (string value in values)
            {
                if (!request.Headers.TryAddWithoutValidation(header, value)) { request.Content.Headers.TryAddWithoutValidation(header, value); }
            }
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(endpoint.Timeout);
        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            if (status is >= 200 and < 400) { return true; }
            metrics.AttemptFailed(slot, answered: true);
            Log.NotificationRejected(logger, endpoint.Name, status);
            return false;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !stoppingToken.IsCancellationRequested))
        {
            metrics.AttemptFailed(slot, answered: false);
            Log.NotificationUnreachable(logger, endpoint.Name, ex.Message);
            return false;
        }
    }
}
