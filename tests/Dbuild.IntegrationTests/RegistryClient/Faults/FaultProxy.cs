using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dbuild.IntegrationTests.RegistryClient.Faults;

/// <summary>
/// An HTTP reverse proxy (Kestrel on 127.0.0.1 and a free port) in front of a real registry that injects faults per
/// request by a script of <see cref="FaultRule"/>s: stalls before the headers or mid-body, 503/429 with
/// <c>Retry-After</c>, connections closed before or after forwarding or mid-body. Every request is recorded in
/// <see cref="Seen"/>. The Host header is passed on, so the registry's upload locations point back at the proxy.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase) { "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Host" };
    private readonly WebApplication _app;
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Uri _backend;
    private readonly List<(FaultRule Rule, int[] Left)> _rules = [];
    private readonly CancellationTokenSource _stopping = new();

    private FaultProxy(WebApplication app, Uri backend) => (_app, _backend) = (app, backend);

    /// <summary><c>127.0.0.1:PORT</c>: the registry part of references that go through the proxy.</summary>
    public string Host { get; private set; } = "";

    public ConcurrentQueue<SeenRequest> Seen { get; } = new();

    /// <summary>Requests seen with <paramref name="method"/> whose path contains <paramref name="pathContains"/>.</summary>
    public IReadOnlyList<SeenRequest> SeenFor(string method, string pathContains) =>
        [.. Seen.Where(r => r.Method == method && r.Path.Contains(pathContains, StringComparison.Ordinal))];

    public static async Task<FaultProxy> StartAsync(string backendHost, CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0);
            o.Limits.MaxRequestBodySize = null;
        });
        WebApplication app = builder.Build();
        var proxy = new FaultProxy(app, new Uri($"http://{backendHost}/"));
        app.Run(proxy.HandleAsync);
        await app.StartAsync(cancellationToken);
        proxy.Host = new Uri(app.Urls.First()).Authority;
        return proxy;
    }

    /// <summary>Adds rules; the first rule that matches a request and has uses left applies.</summary>
    public FaultProxy With(params FaultRule[] rules)
    {
        lock (_rules) { _rules.AddRange(rules.Select(r => (r, new[] { r.Times }))); }
        return this;
    }

    private FaultRule? Match(HttpRequest request)
    {
        lock (_rules)
        {
            foreach ((FaultRule rule, int[] left) in _rules)
            {
                if (left[0] > 0 && rule.Method == request.Method && request.Path.Value!.Contains(rule.PathContains, StringComparison.Ordinal))
                {
                    left[0]--;
                    return rule;
                }
            }
            return null;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        FaultRule? rule = Match(request);
        Seen.Enqueue(new SeenRequest(request.Method, request.Path.Value!, request.Headers.Range.ToString() is { Length: > 0 } r ? r : null, DateTimeOffset.UtcNow, rule?.Kind));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        switch (rule?.Kind)
        {
            case FaultKind.StallHeaders:
                await StallAsync(stop.Token);
                return;
            case FaultKind.Status:
                context.Response.StatusCode = rule.Status;
                if (rule.RetryAfter is not null) { context.Response.Headers.RetryAfter = RetryAfterValue(rule.RetryAfter); }
                await context.Response.WriteAsync("""{"errors":[{"code":"UNAVAILABLE","message":"injected by the fault proxy"}]}""", stop.Token);
                return;
            case FaultKind.DropBeforeForward:
                context.Abort();
                return;
        }
        using HttpResponseMessage upstream = await ForwardAsync(request, stop.Token);
        if (rule?.Kind == FaultKind.DropAfterForward)
        {
            context.Abort();
            return;
        }
        context.Response.StatusCode = (int)upstream.StatusCode;
        foreach ((string name, IEnumerable<string> values) in upstream.Headers.Concat(upstream.Content.Headers))
        {
            if (!HopByHop.Contains(name)) { context.Response.Headers[name] = values.ToArray(); }
        }
        await using Stream body = await upstream.Content.ReadAsStreamAsync(stop.Token);
        if (rule?.Kind is FaultKind.StallBody or FaultKind.DropMidBody)
        {
            byte[] head = new byte[rule.AfterBytes];
            int got = await body.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, stop.Token);
            await context.Response.Body.WriteAsync(head.AsMemory(0, got), stop.Token);
            await context.Response.Body.FlushAsync(stop.Token);
            if (rule.Kind == FaultKind.DropMidBody) { context.Abort(); }
            else { await StallAsync(stop.Token); }
            return;
        }
        await body.CopyToAsync(context.Response.Body, stop.Token);
    }

    private async Task<HttpResponseMessage> ForwardAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_backend, request.Path.Value + request.QueryString.Value));
        if (request.ContentLength is not null || request.Headers.TransferEncoding.Count > 0)
        {
            message.Content = new StreamContent(request.Body);
        }
        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in request.Headers)
        {
            if (HopByHop.Contains(name)) { continue; }
            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values)) { message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values); }
        }
        message.Headers.Host = request.Host.Value; // registry:2 builds its Location headers from it
        return await _upstream.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary><c>date+N</c> is the HTTP-date N seconds from now (whole seconds, so at least N-1 s away); anything else is sent as it is.</summary>
    private static string RetryAfterValue(string value) =>
        value.StartsWith("date+", StringComparison.Ordinal)
            ? DateTimeOffset.UtcNow.AddSeconds(int.Parse(value[5..], CultureInfo.InvariantCulture)).ToString("r", CultureInfo.InvariantCulture)
            : value;

    /// <summary>Waits until the client gives up (closes the connection) or the proxy stops; bounded by the test's own timeouts.</summary>
    private static async Task StallAsync(CancellationToken cancellationToken)
    {
        try { await Task.Delay(TimeSpan.FromSeconds(60), cancellationToken); }
        catch (OperationCanceledException) { /* the client hung up */ }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _upstream.Dispose();
        _stopping.Dispose();
    }
}
