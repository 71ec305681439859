using System.Diagnostics;
using Dbuild.Registry.Api;
using Microsoft.AspNetCore.Http;

namespace Dbuild.Registry.Observability;

/// <summary>
/// Request metrics of the <c>/v2</c> API with registry:2's names and labels (<c>registry_http_requests_total{code,handler,method}</c>,
/// <c>registry_http_request_duration_seconds</c>, request and response size histograms), plus upload sessions started,
/// completed and cancelled, which registry:2 does not count. Every series is a preallocated slot indexed by route,
/// method and status, so a request costs a few interlocked adds.
/// </summary>
internal sealed class HttpMetrics
{
    /// <summary>registry:2's handler names (its route names with <c>-</c> as <c>_</c>), by <see cref="DistributionRoute"/>; then paths no route matched.</summary>
    private static readonly string[] Handlers = ["base", "catalog", "tags", "manifest", "blob", "blob_upload", "blob_upload_chunk", "referrers", "unknown"];
    private static readonly string[] Methods = ["get", "head", "put", "post", "patch", "delete", "other"];
    private const int Get = 0, Head = 1, Put = 2, Post = 3, Patch = 4, Delete = 5, OtherMethod = 6;
    private const int FirstStatus = 100;
    private const int Statuses = 500;
    /// <summary>registry:2's (go-metrics') duration buckets.</summary>
    private static readonly double[] DurationBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60];
    /// <summary>registry:2's size buckets: 1 KiB doubling to 2 GiB.</summary>
    private static readonly double[] SizeBounds = [.. Enumerable.Range(0, 22).Select(i => 1024d * (1L << i))];

    private readonly CounterSeries _requests = new(Handlers.Length * Methods.Length * Statuses);
    private readonly HistogramSeries _duration = new(Handlers.Length * Methods.Length, DurationBounds, Stopwatch.Frequency);
    private readonly HistogramSeries _requestSize = new(Handlers.Length, SizeBounds, 1);
    private readonly HistogramSeries _responseSize = new(Handlers.Length, SizeBounds, 1);
    private readonly CounterSeries _uploads = new(3);

    public HttpMetrics(bool enabled) => Enabled = enabled;

    /// <summary>False unless <c>http.debug.prometheus.enabled</c>: then <see cref="Record"/> does nothing.</summary>
    public bool Enabled { get; }

    /// <summary>Records one finished request (<paramref name="elapsedTicks"/> in Stopwatch ticks); <paramref name="route"/> is null when it was not parsed.</summary>
    public void Record(HttpContext context, DistributionRoute? route, long elapsedTicks, long bytesIn)
    {
        if (!Enabled) { return; }
        route ??= RouteOfUnparsed(context); // answered before routing (401): parsed here, off the hot path
        int handler = route is { } r ? (int)r : Handlers.Length - 1;
        string method = context.Request.Method;
        int methodIndex = MethodIndex(method);
        int status = context.Response.StatusCode;
        int statusIndex = Math.Clamp(status - FirstStatus, 0, Statuses - 1);
        int series = (handler * Methods.Length) + methodIndex;
        _requests.Add((series * Statuses) + statusIndex);
        _duration.Observe(series, elapsedTicks);
        _requestSize.Observe(handler, bytesIn);
        _responseSize.Observe(handler, methodIndex == Head ? 0 : context.Response.ContentLength ?? 0);
        if (route is DistributionRoute.UploadStart or DistributionRoute.Upload) { CountUploadSession(context, route.Value, methodIndex, status); }
    }

    private static DistributionRoute? RouteOfUnparsed(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        return path.StartsWith("/v2", StringComparison.Ordinal) && DistributionPath.TryParse(path[3..], out DistributionPath parsed) ? parsed.Route : null;
    }

    /// <summary>
    /// Sessions from the answers that start and end them: POST 202 starts one; POST <c>?digest=</c> 201 (monolithic) starts
    /// and completes one, while a POST <c>?mount=</c> 201 is no session; PUT 201 completes, DELETE 204 cancels.
    /// </summary>
    private void CountUploadSession(HttpContext context, DistributionRoute route, int method, int status)
    {
        const int Started = 0, Completed = 1, Cancelled = 2;
        if (route == DistributionRoute.UploadStart && method == Post)
        {
            if (status == 202) { _uploads.Add(Started); }
            else if (status == 201 && !context.Request.Query.ContainsKey("mount")) { _uploads.Add(Started); _uploads.Add(Completed); }
        }
        else if (route == DistributionRoute.Upload && method == Put && status == 201) { _uploads.Add(Completed); }
        else if (route == DistributionRoute.Upload && method == Delete && status == 204) { _uploads.Add(Cancelled); }
    }

    private static int MethodIndex(string method) =>
        HttpMethods.IsGet(method) ? Get
        : HttpMethods.IsHead(method) ? Head
        : HttpMethods.IsPut(method) ? Put
        : HttpMethods.IsPost(method) ? Post
        : HttpMethods.IsPatch(method) ? Patch
        : HttpMethods.IsDelete(method) ? Delete
        : OtherMethod;

    public void Write(PrometheusText text)
    {
        text.Header("registry_http_requests_total", "counter", "Total number of HTTP requests made.");
        for (int series = 0; series < Handlers.Length * Methods.Length; series++)
        {
            for (int status = 0; status < Statuses; status++)
            {
                long count = _requests[(series * Statuses) + status];
                if (count == 0) { continue; }
                string labels = $"code=\"{status + FirstStatus}\",handler=\"{Handlers[series / Methods.Length]}\",method=\"{Methods[series % Methods.Length]}\"";
                text.Sample("registry_http_requests_total", labels, count);
            }
        }
        text.Header("registry_http_request_duration_seconds", "histogram", "The HTTP request latencies in seconds.");
        for (int series = 0; series < Handlers.Length * Methods.Length; series++)
        {
            _duration.Write(text, "registry_http_request_duration_seconds", series,
                $"handler=\"{Handlers[series / Methods.Length]}\",method=\"{Methods[series % Methods.Length]}\"");
        }
        text.Header("registry_http_request_size_bytes", "histogram", "The HTTP request body sizes in bytes (bytes received).");
        for (int h = 0; h < Handlers.Length; h++) { _requestSize.Write(text, "registry_http_request_size_bytes", h, $"handler=\"{Handlers[h]}\""); }
        text.Header("registry_http_response_size_bytes", "histogram", "The HTTP response body sizes in bytes (bytes sent).");
        for (int h = 0; h < Handlers.Length; h++) { _responseSize.Write(text, "registry_http_response_size_bytes", h, $"handler=\"{Handlers[h]}\""); }
        text.Header("registry_upload_sessions_started_total", "counter", "Blob upload sessions started (a monolithic POST counts as started and completed).");
        text.Sample("registry_upload_sessions_started_total", "", _uploads[0]);
        text.Header("registry_upload_sessions_completed_total", "counter", "Blob upload sessions completed with 201 Created.");
        text.Sample("registry_upload_sessions_completed_total", "", _uploads[1]);
        text.Header("registry_upload_sessions_cancelled_total", "counter", "Blob upload sessions cancelled by DELETE.");
        text.Sample("registry_upload_sessions_cancelled_total", "", _uploads[2]);
    }
}
