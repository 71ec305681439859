using System.Globalization;
using System.Threading.Channels;
using Dbuild.Oci;
using Dbuild.Registry.Auth;
using Dbuild.Registry.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Notifications;

/// <summary>
/// The request path's side of notifications: builds registry:2's event for a push, pull, delete or mount and hands it
/// to a bounded channel that <see cref="NotificationService"/> writes to each endpoint's queue in storage. A request
/// never waits on delivery; it waits on the channel only when thousands of events are not yet written. Once the
/// service has stopped (shutdown), events are written to storage directly so none is lost.
/// </summary>
internal sealed class EventNotifier
{
    /// <summary>The Basic-auth user of the request, set by the handler (token users come from the token's claims).</summary>
    public const string ActorItem = "dbuild.actor";
    private const int Capacity = 4096;
    private readonly Channel<PendingEvent> _channel = Channel.CreateBounded<PendingEvent>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly TimeProvider _time;
    private readonly EventSource _source;
    private volatile Func<PendingEvent, CancellationToken, Task>? _direct;

    public EventNotifier(IOptions<RegistryOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        Enabled = options.Value.Notifications.Enabled;
        int port = RegistryConfigLoader.TryParseAddress(options.Value.Address, out _, out int p) ? p : 0;
        _source = new EventSource($"{Environment.MachineName}:{port.ToString(CultureInfo.InvariantCulture)}", Guid.NewGuid().ToString());
    }

    public bool Enabled { get; }

    public ChannelReader<PendingEvent> Reader => _channel.Reader;

    /// <summary>From now on events are written by <paramref name="writer"/> on the request path (the service is stopping).</summary>
    public void WriteDirectly(Func<PendingEvent, CancellationToken, Task> writer)
    {
        _direct = writer;
        _channel.Writer.TryComplete(); // a write racing with this fails and goes direct; what got in is drained by the caller
    }

    public Task ManifestAsync(HttpContext context, string action, string repository, Digest digest, string mediaType, long size, string? tag) =>
        PublishAsync(context, action, new EventTarget
        {
            MediaType = mediaType, Size = size, Length = size, Digest = digest.ToString(), Repository = repository, Tag = tag,
            Url = Url(context, repository, "manifests", digest),
        });

    public Task BlobAsync(HttpContext context, string action, string repository, Digest digest, long size, string? fromRepository = null) =>
        PublishAsync(context, action, new EventTarget
        {
            MediaType = "application/octet-stream", Size = size, Length = size, Digest = digest.ToString(), Repository = repository,
            FromRepository = fromRepository, Url = Url(context, repository, "blobs", digest),
        });

    /// <summary>A manifest or blob deleted by digest, or a tag deleted (registry:2 sends one per tag a deleted manifest had).</summary>
    public Task DeletedAsync(HttpContext context, string repository, Digest? digest, string? tag) =>
        PublishAsync(context, NotificationAction.Delete, new EventTarget { Digest = digest?.ToString(), Repository = repository, Tag = tag });

    private async Task PublishAsync(HttpContext context, string action, EventTarget target)
    {
        if (!Enabled) { return; }
        DateTimeOffset now = _time.GetUtcNow();
        HttpRequest request = context.Request;
        var item = new PendingEvent(now, new RegistryEvent
        {
            Id = Guid.NewGuid().ToString(),
            Timestamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
            Action = action,
            Target = target,
            Request = new EventRequest(Guid.NewGuid().ToString(), $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}",
                request.Host.Value ?? "", request.Method, request.Headers.UserAgent.ToString()),
            Actor = new EventActor(Actor(context)),
            Source = _source,
        });
        // The event describes a request that has succeeded: it is kept even if the client goes away now.
        if (_direct is { } direct) { await direct(item, CancellationToken.None).ConfigureAwait(false); return; }
        try { await _channel.Writer.WriteAsync(item, CancellationToken.None).ConfigureAwait(false); }
        catch (ChannelClosedException) { await _direct!(item, CancellationToken.None).ConfigureAwait(false); }
    }

    private static string? Actor(HttpContext context)
    {
        if (context.Items.TryGetValue(BearerAuthorizer.ClaimsItem, out object? claims) && claims is TokenClaims { Subject.Length: > 0 } token) { return token.Subject; }
        return context.Items.TryGetValue(ActorItem, out object? user) && user is string { Length: > 0 } name ? name : null;
    }

    private static string Url(HttpContext context, string repository, string kind, Digest digest) =>
        $"{context.Request.Scheme}://{context.Request.Host}/v2/{repository}/{kind}/{digest}";
}

/// <summary>An event waiting to be written to the queues, with the time that orders it.</summary>
internal sealed record PendingEvent(DateTimeOffset Time, RegistryEvent Event);
