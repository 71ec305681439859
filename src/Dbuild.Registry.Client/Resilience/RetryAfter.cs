using System.Net;

namespace Dbuild.Registry.Client.Resilience;

/// <summary>
/// The wait a 429 or 503 asks for in <c>Retry-After</c>, as seconds or as an HTTP-date, capped at
/// <see cref="RegistryClientOptions.MaxRetryAfter"/>; null when there is none (then the backoff decides).
/// </summary>
/// <remarks>https://www.rfc-editor.org/rfc/rfc9110#field.retry-after</remarks>
internal static class RetryAfter
{
    public static TimeSpan? Of(HttpResponseMessage? response, TimeSpan cap, TimeProvider timeProvider)
    {
        if (response is null || response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)) { return null; }
        TimeSpan? wait = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - timeProvider.GetUtcNow(),
            _ => null,
        };
        if (wait is not { } w) { return null; }
        if (w < TimeSpan.Zero) { return TimeSpan.Zero; } // a date already past: retry now
        return w > cap ? cap : w;
    }
}
