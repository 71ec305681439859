using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Registry.Auth;
using Dbuild.Registry.Observability;
using Dbuild.Registry.Proxy;
using Dbuild.Registry.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Api;

/// <summary>
/// Every <c>/v2/…</c> request: API version header, access log, auth, read-only mode, routing through
/// <see cref="DistributionPath"/>, and translation of failures into the spec's error bodies.
/// </summary>
internal sealed partial class DistributionHandler(
    RegistryStorage storage,
    HtpasswdAuthenticator authenticator,
    BearerAuthorizer bearer,
    HttpMetrics metrics,
    IOptions<RegistryOptions> options,
    ILogger<DistributionHandler> logger,
    ILoggerFactory loggerFactory,
    PullThroughCache proxy,
    ProxyBlobFetcher proxyBlobs,
    Policies.ImmutableTags immutableTags,
    Policies.QuotaEnforcer quotas,
    Notifications.EventNotifier notifier)
{
    public const string ApiVersionHeader = "Docker-Distribution-Api-Version";
    private const string ItemsBytesIn = "dbuild.bytesIn";
    /// <summary>Media types contain '+', which the default encoder would escape.</summary>
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly ILogger _accessLog = loggerFactory.CreateLogger("Dbuild.Registry.AccessLog");
    private readonly RegistryOptions _options = options.Value;

    public async Task HandleAsync(HttpContext context)
    {
        long started = Stopwatch.GetTimestamp();
        HttpResponse response = context.Response;
        response.Headers[ApiVersionHeader] = "registry/2.0";
        string user = "";
        DistributionRoute? route = null;
        try
        {
            if (authenticator.Enabled)
            {
                if (!authenticator.TryAuthenticate(context.Request.Headers.Authorization, out user))
                {
                    if (context.Request.Headers.Authorization.Count > 0) { Log.AuthenticationFailed(logger, Remote(context)); }
                    response.Headers.WWWAuthenticate = $"Basic realm=\"{authenticator.Realm}\"";
                    throw DistributionErrors.UnauthorizedError();
                }
                context.Items[Notifications.EventNotifier.ActorItem] = user;
            }
            DistributionPath parsed = ParseRoute(context);
            route = parsed.Route;
            await DispatchAsync(context, parsed).ConfigureAwait(false);
        }
        catch (DistributionException error) when (!response.HasStarted)
        {
            await DistributionErrors.WriteAsync(context, error).ConfigureAwait(false);
        }
        catch (UploadUnknownException ex) when (!response.HasStarted)
        {
            await DistributionErrors.WriteAsync(context, DistributionErrors.BlobUploadUnknownError(ex.Id)).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (!response.HasStarted)
        {
            // Kestrel's own limits and framing errors: a client problem, never a 500.
            var error = ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? DistributionErrors.SizeInvalidError("request body too large")
                : DistributionErrors.BlobUploadInvalidError(ex.Message);
            await DistributionErrors.WriteAsync(context, new DistributionException(error.Code, error.Message, ex.StatusCode)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        finally
        {
            if (context.Items.TryGetValue(BearerAuthorizer.ClaimsItem, out object? claims) && claims is TokenClaims token) { user = token.Subject; }
            long bytesIn = context.Items.TryGetValue(ItemsBytesIn, out object? counted) && counted is long n ? n : context.Request.ContentLength ?? 0;
            long elapsed = Stopwatch.GetTimestamp() - started;
            Log.Access(_accessLog, context.Request.Method, context.Request.Path + context.Request.QueryString, response.StatusCode,
                bytesIn, response.ContentLength ?? 0, elapsed * 1000 / Stopwatch.Frequency, user, Remote(context));
            metrics.Record(context, route, elapsed, bytesIn);
        }
    }

    private static string Remote(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "-";

    private static DistributionPath ParseRoute(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        string rest = path.Length > 3 ? path[3..] : ""; // after "/v2"
        if (!DistributionPath.TryParse(rest, out DistributionPath route))
        {
            throw DotSegmentReference(context) is { } dots
                ? HttpMethods.IsPut(context.Request.Method) ? DistributionErrors.TagInvalidError(dots) : DistributionErrors.ManifestUnknownError(dots)
                : DistributionErrors.NotFoundError(path);
        }
        return route;
    }

    private async Task DispatchAsync(HttpContext context, DistributionPath route)
    {
        string method = context.Request.Method;
        if (bearer.Enabled) { await bearer.AuthorizeAsync(context, route).ConfigureAwait(false); }
        bool write = !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method));
        if (route.Route is not (DistributionRoute.Base or DistributionRoute.Catalog) && !DistributionPath.IsValidName(route.Name))
        {
            throw DistributionErrors.NameInvalidError(route.Name);
        }
        if (write && _options.ReadOnly) { throw DistributionErrors.UnsupportedError("the registry is in read-only mode"); }
        // A mirrored repository is read-only, as in registry:2's proxy mode (405 UNSUPPORTED for pushes and deletes).
        if (write && proxy.Enabled && (route.Route == DistributionRoute.Base || proxy.Route(route.Name) is not null))
        {
            throw DistributionErrors.UnsupportedError("the repository is a pull-through cache of an upstream registry (proxy)");
        }
        CancellationToken cancellationToken = context.RequestAborted;
        await ((route.Route, method) switch
        {
            (DistributionRoute.Base, "GET" or "HEAD") => WriteJsonAsync(context, 200, new { }, "application/json"),
            (DistributionRoute.Catalog, "GET" or "HEAD") => GetCatalogAsync(context, cancellationToken),
            (DistributionRoute.Tags, "GET" or "HEAD") => GetTagsAsync(context, route.Name, cancellationToken),
            (DistributionRoute.Manifest, "GET" or "HEAD") => GetManifestAsync(context, route.Name, route.Reference, cancellationToken),
            (DistributionRoute.Manifest, "PUT") => PutManifestAsync(context, route.Name, route.Reference, cancellationToken),
            (DistributionRoute.Manifest, "DELETE") => DeleteManifestAsync(context, route.Name, route.Reference, cancellationToken),
            (DistributionRoute.Blob, "GET" or "HEAD") => GetBlobAsync(context, route.Name, route.Reference, cancellationToken),
            (DistributionRoute.Blob, "DELETE") => DeleteBlobAsync(context, route.Name, route.Reference, cancellationToken),
            (DistributionRoute.UploadStart, "POST") => StartUploadAsync(context, route.Name, cancellationToken),
            (DistributionRoute.Upload, "GET" or "HEAD") => GetUploadStatusAsync(context, route.Name, route.Reference, cancellationToken),
            (DistributionRoute.Upload, "PATCH") => PatchUploadAsync(context, route.Name, route.Reference, cancellationToken),
            (DistributionRoute.Upload, "PUT") => CompleteUploadAsync(context, route.Name, route.Reference, cancellationToken),
            (DistributionRoute.Upload, "DELETE") => CancelUploadAsync(context, route.Name, route.Reference, cancellationToken),
            (DistributionRoute.Referrers, "GET" or "HEAD") => GetReferrersAsync(context, route.Name, route.Reference, cancellationToken),
            _ => throw DistributionErrors.UnsupportedError($"{method} is not allowed on this endpoint"),
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>.</c> or <c>..</c> as a manifest reference: the server's path normalisation has already removed them from
    /// <see cref="HttpRequest.Path"/>, so the raw request target is read.
    /// </summary>
    private static string? DotSegmentReference(HttpContext context)
    {
        string raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        int query = raw.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0) { raw = raw[..query]; }
        int slash = raw.LastIndexOf('/');
        if (slash < 0) { return null; }
        string last = Uri.UnescapeDataString(raw[(slash + 1)..]);
        return last is "." or ".." && raw[..slash].EndsWith("/manifests", StringComparison.Ordinal) ? last : null;
    }

    private static Digest ParseDigest(string? text)
    {
        if (!Digest.TryParse(text, out Digest digest, out string? error))
        {
            throw new DistributionException(DistributionErrors.DigestInvalid, $"invalid digest: {error}", 400, new { digest = text });
        }
        return digest;
    }

    /// <summary>Lets a request body stream past Kestrel's default limit (uploads only).</summary>
    private static void LiftBodyLimit(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) { feature.MaxRequestBodySize = null; }
    }

    private static async Task WriteJsonAsync<T>(HttpContext context, int status, T value, string contentType)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(value, JsonOptions);
        await WriteBytesAsync(context, status, body, contentType).ConfigureAwait(false);
    }

    private static Task WriteBytesAsync(HttpContext context, int status, byte[] body, string contentType)
    {
        HttpResponse response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static void Empty(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        context.Response.ContentLength = 0;
    }

    private static void CountBytesIn(HttpContext context, long bytes) =>
        context.Items[ItemsBytesIn] = (context.Items.TryGetValue(ItemsBytesIn, out object? n) && n is long l ? l : 0) + bytes;
}
