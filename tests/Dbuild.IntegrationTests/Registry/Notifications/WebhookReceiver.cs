using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dbuild.IntegrationTests.Registry.Notifications;

/// <summary>One POST the receiver got: its path, headers and the events of its envelope.</summary>
internal sealed record ReceivedPost(string Path, string? ContentType, IReadOnlyDictionary<string, string[]> Headers, IReadOnlyList<JsonObject> Events);

/// <summary>
/// A real HTTP webhook receiver (Kestrel) on a fixed 127.0.0.1 port, so it can be stopped and started again on the same
/// URL. It records every POST, or answers the next <see cref="FailNext"/> ones with 500 (recorded as failures).
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<ReceivedPost> _posts = [];
    private readonly SemaphoreSlim _changed = new(0);
    private int _failNext;
    private int _refused;

    private WebhookReceiver(WebApplication app, int port) => (_app, Port) = (app, port);

    public int Port { get; }

    public string Url(string path = "/hook") => $"http://127.0.0.1:{Port}{path}";

    /// <summary>How many POSTs were answered 500 on purpose.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Answers this many coming POSTs with 500.</summary>
    public int FailNext { set => Volatile.Write(ref _failNext, value); }

    public static async Task<WebhookReceiver> StartAsync(int port, CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        WebApplication app = builder.Build();
        var receiver = new WebhookReceiver(app, port);
        app.MapPost("/{**path}", receiver.HandleAsync);
        await app.StartAsync(cancellationToken);
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (Interlocked.Decrement(ref _failNext) >= 0)
        {
            Interlocked.Increment(ref _refused);
            _changed.Release();
            context.Response.StatusCode = 500;
            return;
        }
        JsonNode? body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var events = body?["events"]?.AsArray().Select(e => e!.AsObject()).ToList() ?? [];
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? "").ToArray(), StringComparer.OrdinalIgnoreCase);
        lock (_posts) { _posts.Add(new ReceivedPost(context.Request.Path, context.Request.ContentType, headers, events)); }
        _changed.Release();
        context.Response.StatusCode = 200;
    }

    public IReadOnlyList<ReceivedPost> Posts { get { lock (_posts) { return _posts.ToList(); } } }

    /// <summary>Every event received on <paramref name="path"/>, in arrival order.</summary>
    public IReadOnlyList<JsonObject> Events(string path = "/hook") => Posts.Where(p => p.Path == path).SelectMany(p => p.Events).ToList();

    /// <summary>Waits (bounded) until <paramref name="done"/> holds for what arrived; fails with what did arrive.</summary>
    public async Task WaitForAsync(Func<WebhookReceiver, bool> done, string what, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            while (!done(this)) { await _changed.WaitAsync(limit.Token); }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            string got = string.Join("\n", Posts.SelectMany(p => p.Events.Select(e => $"{p.Path} {e.ToJsonString()}")));
            Assert.Fail($"Timed out waiting for {what}; received:\n{got}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _changed.Dispose();
    }
}
