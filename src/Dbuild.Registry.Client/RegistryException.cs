using System.Net;

namespace Dbuild.Registry.Client;

/// <summary>
/// A registry refused or failed a request. Carries the HTTP status, the distribution spec's error code
/// (<c>UNAUTHORIZED</c>, <c>MANIFEST_UNKNOWN</c>, …) when the body had one, and whether retrying may help.
/// </summary>
/// <remarks>https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#error-codes</remarks>
public sealed class RegistryException : Exception
{
    /// <summary>Creates the exception with a message that already says what failed, on what, and what to do.</summary>
    public RegistryException(string message, HttpStatusCode? statusCode, string? errorCode, bool isTransient, Exception? innerException = null)
        : base(message, innerException) => (StatusCode, ErrorCode, IsTransient) = (statusCode, errorCode, isTransient);

    /// <summary>The HTTP status, or null when no response arrived (connection refused, TLS failure).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The first error code of the spec's JSON error body, or null when the body had none.</summary>
    public string? ErrorCode { get; }

    /// <summary>True for failures worth retrying: 5xx except 501, 408, 429 and transport errors.</summary>
    public bool IsTransient { get; }

    /// <summary>True when the status is transient: 408, 429 and 5xx except 501 and 505.</summary>
    public static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests ||
        ((int)status >= 500 && status is not HttpStatusCode.NotImplemented and not HttpStatusCode.HttpVersionNotSupported);
}
