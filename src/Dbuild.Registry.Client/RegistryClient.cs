using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dbuild.Registry.Client.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace Dbuild.Registry.Client;

/// <summary>
/// A client of the OCI distribution API (and Docker Registry HTTP API v2): ping, manifests, blobs, uploads,
/// with token or basic auth answered from a credential source. Thread-safe; share one per process.
/// </summary>
/// <remarks>https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md</remarks>
public sealed partial class RegistryClient
{
    private readonly HttpClient _http;
    private readonly RegistryClientOptions _options;
    private readonly RegistryAuthenticator _auth;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private readonly ResiliencePipeline _blobRetry;
    private readonly ResiliencePipeline _readRetry;

    /// <summary>Creates a client over the caller's <see cref="HttpClient"/> (the CLI owns one <see cref="SocketsHttpHandler"/> per process).</summary>
    public RegistryClient(HttpClient httpClient, RegistryClientOptions? options = null, IRegistryCredentialSource? credentials = null,
        ILogger<RegistryClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        _http = httpClient;
        _options = options ?? new RegistryClientOptions();
        _auth = new RegistryAuthenticator(httpClient, credentials ?? new StaticCredentialSource(new Dictionary<string, RegistryCredential>()), _options);
        _logger = logger ?? NullLogger<RegistryClient>.Instance;
        _retry = RegistryRetry.ForRequests(_options, _logger);
        // A blob push starts over (a new upload) after a transient failure of one of its requests that was not retried
        // itself (a POST, a streamed PUT, a PATCH).
        _blobRetry = RegistryRetry.ForOperations(_options, _logger,
            ex => !RegistryRetry.WasRetried(ex) && (ex is RegistryException { IsTransient: true } || RegistryRetry.IsTransport(ex)));
        // A blob read that stalled or was cut resumes where it stopped.
        _readRetry = RegistryRetry.ForOperations(_options, _logger, RegistryRetry.IsTransport);
    }

    /// <summary>
    /// The API base for a registry host: Docker Hub's API host for <c>docker.io</c>; HTTPS unless the host is configured
    /// for plain HTTP or is an insecure host that turned out not to speak TLS.
    /// </summary>
    public Uri BaseUri(string registry)
    {
        ArgumentException.ThrowIfNullOrEmpty(registry);
        string host = DockerConfigCredentials.IsDockerHub(registry) ? "registry-1.docker.io" : registry;
        string scheme = _options.Hosts.UsesPlainHttp(host) ? "http" : "https";
        return new Uri($"{scheme}://{host}/");
    }

    /// <summary>Checks that the registry speaks the v2 API (<c>GET /v2/</c>) and that the credentials, if any, are accepted.</summary>
    public async Task PingAsync(string registry, CancellationToken cancellationToken = default)
    {
        Uri uri = new(BaseUri(registry), "v2/");
        using HttpResponseMessage response = await SendAsync(registry, [], () => new HttpRequestMessage(HttpMethod.Get, uri),
            HttpCompletionOption.ResponseContentRead, retry: true, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorAsync(response, $"Contacting {registry}", registry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Opens a connection to the registry ahead of time (one unauthenticated <c>GET /v2/</c>, result ignored), so a
    /// push at the end of a build does not also pay for the first connection and the HTTP stack's start-up.
    /// Never throws: a registry that is down is reported by the real request.
    /// </summary>
    public async Task WarmUpAsync(string registry, CancellationToken cancellationToken = default)
    {
        try
        {
            // Through SendOnceAsync so an insecure host's TLS-or-HTTP question is settled here too.
            Uri uri = new(BaseUri(registry), "v2/");
            using HttpResponseMessage response = await SendOnceAsync(registry, () => new HttpRequestMessage(HttpMethod.Get, uri), null,
                HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or ArgumentException or InvalidOperationException or RegistryException)
        {
            // Only a warm-up.
        }
    }

    internal static string PullScope(string repository) => $"repository:{repository}:pull";
    internal static string PushScope(string repository) => $"repository:{repository}:pull,push";

    internal Uri RepositoryUri(string registry, string repository, string rest) => new(BaseUri(registry), $"v2/{repository}/{rest}");

    /// <summary>
    /// Sends a request made by <paramref name="create"/> (called again for every attempt), answering a 401 once with
    /// credentials for <paramref name="scopes"/> and, when <paramref name="retry"/> is set, retrying transient failures of
    /// replayable requests (<see cref="RegistryRetry"/>). Each attempt fails after <see cref="RegistryClientOptions.ReadTimeout"/>
    /// without progress. Transport failures left after the retries become one <see cref="RegistryException"/> line.
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(string registry, IReadOnlyList<string> scopes, Func<HttpRequestMessage> create,
        HttpCompletionOption completion, bool retry, CancellationToken cancellationToken)
    {
        var attempt = new RequestAttempt(registry, scopes, create, completion);
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(RegistryRetry.Registry, registry);
        try
        {
            HttpResponseMessage response = await (retry ? _retry : ResiliencePipeline<HttpResponseMessage>.Empty).ExecuteAsync(
                static (ctx, state) => state.Client.AttemptAsync(state.Attempt, ctx), context, (Client: this, Attempt: attempt)).ConfigureAwait(false);
            if (attempt.Count > 1 && RegistryException.IsTransientStatus(response.StatusCode))
            {
                response.RequestMessage?.Options.Set(RegistryRetry.Attempts, attempt.Count);
            }
            return response;
        }
        catch (Exception ex) when (RegistryRetry.IsTransport(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw RegistryRetry.MarkRetried(new RegistryException(
                $"Contacting {registry} failed: {attempt.RequestLine}: {TransportFailure(registry, ex, RegistryRetry.GaveUp(attempt.Count))}", null, null, isTransient: true, ex),
                attempt.Count);
        }
        finally { ResilienceContextPool.Shared.Return(context); }
    }

    /// <summary>One attempt of <see cref="SendAsync"/>, under a <see cref="StallGuard"/>.</summary>
    private async ValueTask<HttpResponseMessage> AttemptAsync(RequestAttempt attempt, ResilienceContext context)
    {
        attempt.Count++;
        CancellationToken cancellationToken = context.CancellationToken;
        using var guard = new StallGuard(_options.ReadTimeout, _options.TimeProvider, cancellationToken);
        HttpRequestMessage Create()
        {
            HttpRequestMessage request = attempt.Create();
            context.Properties.Set(RegistryRetry.Replayable, RequestReplay.CanReplay(request));
            attempt.RequestLine = RegistryRetry.RequestLine(request);
            if (request.Content is { } content) { request.Content = new WatchedContent(content, guard); }
            return request;
        }
        try
        {
            AuthenticationHeaderValue? header = await _auth.GetHeaderAsync(attempt.Registry, attempt.Scopes, guard.Token).ConfigureAwait(false);
            guard.Touch();
            HttpResponseMessage response = await SendOnceAsync(attempt.Registry, Create, header, attempt.Completion, guard.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                AuthenticationHeaderValue? answer = await _auth.OnUnauthorizedAsync(attempt.Registry, response, attempt.Scopes, header, guard.Token).ConfigureAwait(false);
                if (answer is not null)
                {
                    response.Dispose();
                    guard.Touch();
                    response = await SendOnceAsync(attempt.Registry, Create, answer, attempt.Completion, guard.Token).ConfigureAwait(false);
                }
            }
            return response;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The stall guard fired, or SocketsHttpHandler's ConnectTimeout did (a TaskCanceledException around a TimeoutException).
            throw new RegistryTimeoutException(guard.Fired ? guard.Describe() : (ex.InnerException ?? ex).Message.TrimEnd('.') + " (connect timeout)", ex);
        }
    }

    /// <summary>What <see cref="SendAsync"/> knows about its request across attempts.</summary>
    private sealed class RequestAttempt(string registry, IReadOnlyList<string> scopes, Func<HttpRequestMessage> create, HttpCompletionOption completion)
    {
        public string Registry { get; } = registry;
        public IReadOnlyList<string> Scopes { get; } = scopes;
        public Func<HttpRequestMessage> Create { get; } = create;
        public HttpCompletionOption Completion { get; } = completion;
        public int Count { get; set; }
        public string RequestLine { get; set; } = "request";
    }

    /// <summary>
    /// A pull's GET: tried on each of the registry's mirrors in order, as buildkitd does, and on the registry itself when
    /// none answers with success. Content is verified by digest whatever its source.
    /// </summary>
    internal async Task<HttpResponseMessage> SendPullAsync(string registry, string repository, Func<HttpRequestMessage> create,
        HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        foreach (string mirror in _options.Hosts.Get(registry).Mirrors)
        {
            Uri mirrorBase = BaseUri(mirror);
            HttpRequestMessage OnMirror()
            {
                HttpRequestMessage request = create();
                request.RequestUri = new Uri(mirrorBase, request.RequestUri!.PathAndQuery);
                return request;
            }
            try
            {
                HttpResponseMessage response = await SendAsync(mirror, [PullScope(repository)], OnMirror, completion, retry: false, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) { return response; }
                Log.MirrorMissed(_logger, mirror, registry, repository, $"{(int)response.StatusCode} {response.ReasonPhrase}");
                response.Dispose();
            }
            catch (RegistryException ex)
            {
                Log.MirrorMissed(_logger, mirror, registry, repository, ex.Message);
            }
        }
        return await SendAsync(registry, [PullScope(repository)], create, completion, retry: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends one request. An HTTPS request to an insecure host that does not speak TLS is sent again over plain HTTP
    /// (docker's fallback), and that host stays on HTTP; a TLS failure on any other host becomes a one-line error.
    /// </summary>
    private async Task<HttpResponseMessage> SendOnceAsync(string registry, Func<HttpRequestMessage> create, AuthenticationHeaderValue? header,
        HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        while (true)
        {
            using HttpRequestMessage request = create();
            Uri uri = request.RequestUri ?? throw new InvalidOperationException("A registry request needs an absolute URI.");
            if (uri.Scheme == Uri.UriSchemeHttps && _options.Hosts.UsesPlainHttp(uri.Authority))
            {
                request.RequestUri = uri = new UriBuilder(uri) { Scheme = Uri.UriSchemeHttp, Port = uri.IsDefaultPort ? -1 : uri.Port }.Uri;
            }
            request.Headers.UserAgent.ParseAdd(_options.UserAgent);
            if (header is not null) { request.Headers.Authorization = header; }
            try
            {
                return await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.SecureConnectionError && uri.Scheme == Uri.UriSchemeHttps)
            {
                if (_options.Hosts.MayFallBackToHttp(uri.Authority))
                {
                    Log.FallingBackToHttp(_logger, uri.Authority, ex.Message);
                    _options.Hosts.FallBackToHttp(uri.Authority);
                    continue;
                }
                throw TlsError(registry, uri, ex);
            }
        }
    }

    /// <summary>
    /// What went wrong below HTTP, in the innermost exception's words (a timeout's own), then <paramref name="gaveUp"/>,
    /// with the likely fix.
    /// </summary>
    internal string TransportFailure(string registry, Exception ex, string gaveUp)
    {
        Exception innermost = ex;
        while (innermost is not RegistryTimeoutException && innermost.InnerException is not null) { innermost = innermost.InnerException; }
        string cause = innermost.Message.TrimEnd('.') + gaveUp;
        string host = BaseUri(registry).Authority;
        // With TLS 1.3 a server refuses a missing client certificate after the handshake: the client sees the connection end.
        return innermost is not RegistryTimeoutException && _options.Hosts.SpeaksTls(host) && _options.Hosts.Get(host).KeyPairs.Count == 0
            ? $"{cause}. If the registry requires a client certificate put client.cert and client.key in {Path.Combine(_options.Hosts.CertsDirectory, host)}."
            : $"{cause}. Check that the registry is reachable.";
    }

    private RegistryException TlsError(string registry, Uri uri, HttpRequestException ex)
    {
        string host = uri.Authority;
        string? problem = _options.Hosts.CertificateProblemOf(host);
        Exception innermost = ex;
        while (innermost.InnerException is not null) { innermost = innermost.InnerException; }
        string config = _options.Hosts.ConfigFile ?? "the dbuild configuration file";
        string message = problem is not null
            ? $"Contacting {registry} failed: Get \"{uri.GetLeftPart(UriPartial.Path)}\": {problem}. {_options.Hosts.TrustHint(host, problem)}"
            : _options.Hosts.SpeaksTls(host)
            ? $"Contacting {registry} failed: the TLS handshake with {host} failed ({innermost.Message.TrimEnd('.')}). " +
              $"If the registry asks for a client certificate put client.cert and client.key in {Path.Combine(_options.Hosts.CertsDirectory, host)}."
            : $"Contacting {registry} failed: {host} does not answer TLS ({innermost.Message.TrimEnd('.')}). " +
              $"If it serves plain HTTP set http = true (or insecure = true) under [registry.\"{host}\"] in {config}.";
        return new RegistryException(message, null, null, isTransient: false, ex);
    }

    /// <summary>Turns a failed response into a <see cref="RegistryException"/> whose message names the action, the spec code and a next step.</summary>
    internal static async Task<RegistryException> ErrorAsync(HttpResponseMessage response, string action, string registry, CancellationToken cancellationToken)
    {
        string? code = null;
        string? detail = null;
        try
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length is > 0 and < 64 * 1024 && body.TrimStart().StartsWith('{'))
            {
                using JsonDocument document = JsonDocument.Parse(body);
                if (document.RootElement.TryGetProperty("errors", out JsonElement errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
                {
                    JsonElement first = errors[0];
                    code = first.TryGetProperty("code", out JsonElement c) ? c.GetString() : null;
                    detail = first.TryGetProperty("message", out JsonElement m) ? m.GetString() : null;
                }
            }
        }
        catch (JsonException) { /* not the spec's error body; the status says enough */ }
        HttpStatusCode status = response.StatusCode;
        bool transient = RegistryException.IsTransientStatus(status);
        code ??= status switch
        {
            HttpStatusCode.Unauthorized => "UNAUTHORIZED",
            HttpStatusCode.Forbidden => "DENIED",
            HttpStatusCode.TooManyRequests => "TOOMANYREQUESTS",
            _ => null,
        };
        string hint = status switch
        {
            HttpStatusCode.Unauthorized => $"Run 'dbuild login {registry}' or check the token's scope.",
            HttpStatusCode.Forbidden => $"The credentials for {registry} lack permission; check the token's scope.",
            HttpStatusCode.NotFound => "Check the repository name, tag and digest.",
            _ when transient => "The registry may be overloaded or restarting; try again.",
            _ => "",
        };
        string what = code ?? response.ReasonPhrase ?? status.ToString();
        string denied = "";
        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden &&
            response.Headers.WwwAuthenticate.Select(h => AuthChallenge.Parse(h.ToString())).FirstOrDefault(c => c is { IsBearer: true }) is { Scopes.Count: > 0 } challenge)
        {
            // The Bearer challenge to a refused token names the scope the request needed: say which one was denied.
            denied = $" The registry requires {string.Join(" and ", RegistryAuthenticator.MergeScopes(challenge.Scopes))}" +
                (challenge.Error is { Length: > 0 } error ? $" ({error})." : ".");
        }
        int attempts = response.RequestMessage?.Options.TryGetValue(RegistryRetry.Attempts, out int tried) == true ? tried : 1;
        string gaveUp = attempts > 1 ? $" Gave up after {attempts} attempts." : "";
        string message = $"{action} failed: {(int)status} {what}" + (string.IsNullOrEmpty(detail) ? "." : $" ({detail}).") + gaveUp + denied + (hint.Length > 0 ? " " + hint : "");
        return RegistryRetry.MarkRetried(new RegistryException(message, status, code, transient), attempts);
    }
}
