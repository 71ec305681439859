using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Dbuild.Registry.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Observability;

/// <summary>
/// What registry:2's debug server (<c>http.debug.addr</c>) answers: the Prometheus scrape at
/// <c>http.debug.prometheus.path</c> and <c>GET /debug/health</c> (200 <c>{}</c>, or 503 with each failing check and its
/// error); anything else is 404. On the main address, an unhealthy registry answers every request 503 UNAVAILABLE.
/// </summary>
internal sealed class DebugEndpoints(HttpMetrics http, StorageMetrics storage, GcMetrics gc, PolicyMetrics policies, NotificationMetrics notifications, StorageHealthCheck health, IOptions<RegistryOptions> options)
{
    public const string HealthPath = "/debug/health";
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly byte[] NotFound = "404 page not found\n"u8.ToArray();
    private readonly RegistryOptions _options = options.Value;

    public Task HandleAsync(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        string method = context.Request.Method;
        if (_options.PrometheusEnabled && path == _options.PrometheusPath && (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)))
        {
            return WriteAsync(context, 200, PrometheusText.ContentType, Encoding.UTF8.GetBytes(Scrape()));
        }
        if (path == HealthPath && HttpMethods.IsGet(method))
        {
            Dictionary<string, string> failing = [];
            if (health.Enabled && health.Error is { } error) { failing[health.Name] = error; }
            return WriteAsync(context, failing.Count == 0 ? 200 : 503, "application/json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(failing, JsonOptions));
        }
        return WriteAsync(context, 404, "text/plain; charset=utf-8", NotFound);
    }

    /// <summary>registry:2's answer to any request while a health check fails.</summary>
    public static Task WriteUnavailableAsync(HttpContext context) => DistributionErrors.WriteAsync(context,
        new DistributionException("UNAVAILABLE", "service unavailable", 503, "health check failed: please see /debug/health"));

    public string Scrape()
    {
        var text = new PrometheusText();
        http.Write(text);
        storage.Write(text);
        gc.Write(text);
        policies.Write(text);
        notifications.Write(text);
        if (health.Enabled)
        {
            text.Header("registry_health_check_up", "gauge", "1 while the health check passes, 0 while it fails.");
            text.Sample("registry_health_check_up", $"check=\"{health.Name}\"", health.Error is null ? 1 : 0);
        }
        ProcessMetrics.Write(text);
        return text.ToString();
    }

    private static Task WriteAsync(HttpContext context, int status, string contentType, byte[] body)
    {
        HttpResponse response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
