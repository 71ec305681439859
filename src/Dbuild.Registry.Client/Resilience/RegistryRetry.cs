using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Dbuild.Registry.Client.Resilience;

/// <summary>
/// The client's retry pipelines (Polly, through Microsoft.Extensions.Http.Resilience): jittered exponential backoff from
/// <see cref="RegistryClientOptions.RetryDelay"/>, at most <see cref="RegistryClientOptions.MaxAttempts"/> attempts, and a
/// 429's or 503's <c>Retry-After</c> honoured up to <see cref="RegistryClientOptions.MaxRetryAfter"/>.
/// </summary>
internal static class RegistryRetry
{
    /// <summary>Set by each attempt from the request it made: may it be sent again (<see cref="RequestReplay"/>)?</summary>
    public static readonly ResiliencePropertyKey<bool> Replayable = new("dbuild.replayable");

    /// <summary>The registry a pipeline runs for, for the log.</summary>
    public static readonly ResiliencePropertyKey<string> Registry = new("dbuild.registry");

    /// <summary>Attempts made for a request, kept on a response that is still a transient failure when the retries gave up.</summary>
    public static readonly HttpRequestOptionsKey<int> Attempts = new("dbuild.attempts");

    /// <summary>
    /// Retries one HTTP request: transport failures, stalls and transient statuses (408, 429, 5xx), when the attempt's
    /// request is replayable; any other answer is returned to the caller as it is.
    /// </summary>
    public static ResiliencePipeline<HttpResponseMessage> ForRequests(RegistryClientOptions options, ILogger logger)
    {
        if (options.MaxAttempts <= 1) { return ResiliencePipeline<HttpResponseMessage>.Empty; }
        var retry = new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = options.MaxAttempts - 1,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryDelay,
            ShouldRetryAfterHeader = false, // before DelayGenerator: its setter replaces the generator
            DelayGenerator = args => ValueTask.FromResult(RetryAfter.Of(args.Outcome.Result, options.MaxRetryAfter, options.TimeProvider)),
            ShouldHandle = args => ValueTask.FromResult(
                args.Context.Properties.GetValue(Replayable, false) && !args.Context.CancellationToken.IsCancellationRequested &&
                (args.Outcome.Exception is { } ex ? IsTransport(ex) : RegistryException.IsTransientStatus(args.Outcome.Result!.StatusCode))),
            OnRetry = args =>
            {
                string reason = args.Outcome.Exception?.Message ?? $"{(int)args.Outcome.Result!.StatusCode} {args.Outcome.Result.ReasonPhrase}";
                Log.Retrying(logger, args.Context.Properties.GetValue(Registry, ""), args.AttemptNumber + 1, reason, args.RetryDelay);
                return default;
            },
        };
        return new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = options.TimeProvider }.AddRetry(retry).Build();
    }

    /// <summary>
    /// Retries a whole operation made of several requests (a blob push: HEAD, POST, PUT) or one body read that resumes:
    /// when <paramref name="shouldRetry"/> says the failure is transient.
    /// </summary>
    public static ResiliencePipeline ForOperations(RegistryClientOptions options, ILogger logger, Func<Exception, bool> shouldRetry)
    {
        if (options.MaxAttempts <= 1) { return ResiliencePipeline.Empty; }
        var retry = new RetryStrategyOptions
        {
            MaxRetryAttempts = options.MaxAttempts - 1,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryDelay,
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Exception is { } ex && !args.Context.CancellationToken.IsCancellationRequested && shouldRetry(ex)),
            OnRetry = args =>
            {
                Log.Retrying(logger, args.Context.Properties.GetValue(Registry, ""), args.AttemptNumber + 1, args.Outcome.Exception?.Message ?? "", args.RetryDelay);
                return default;
            },
        };
        return new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }.AddRetry(retry).Build();
    }

    /// <summary>Runs <paramref name="action"/> through <paramref name="pipeline"/> with the registry named for the log.</summary>
    public static async Task<T> ExecuteAsync<T>(ResiliencePipeline pipeline, string registry, Func<CancellationToken, ValueTask<T>> action,
        CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Registry, registry);
        try
        {
            return await pipeline.ExecuteAsync(static (ctx, a) => a(ctx.CancellationToken), context, action).ConfigureAwait(false);
        }
        finally { ResilienceContextPool.Shared.Return(context); }
    }

    /// <summary>
    /// Marks a failure of a request that was already retried to the limit, so an operation around it (a blob push)
    /// does not retry it again: a stalled registry fails after MaxAttempts attempts, not MaxAttempts squared.
    /// </summary>
    public static T MarkRetried<T>(T exception, int attempts) where T : Exception
    {
        if (attempts > 1) { exception.Data[RetriedKey] = attempts; }
        return exception;
    }

    public static bool WasRetried(Exception exception) => exception.Data.Contains(RetriedKey);

    private const string RetriedKey = "dbuild.retried";

    /// <summary>Failures below HTTP: connection refused or dropped, a response cut short, a stall.</summary>
    public static bool IsTransport(Exception ex) => ex is HttpRequestException { HttpRequestError: not HttpRequestError.SecureConnectionError } or IOException;

    /// <summary>", gave up after N attempts" when there was more than one, for the one-line error.</summary>
    public static string GaveUp(int attempts) => attempts > 1 ? $", gave up after {attempts} attempts" : "";

    /// <summary>The request as the error names it: method and path, no query (an upload's state token is long and opaque).</summary>
    public static string RequestLine(HttpRequestMessage request) => $"{request.Method} {request.RequestUri?.AbsolutePath}";
}
