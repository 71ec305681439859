namespace Dbuild.Registry.Api;

/// <summary>A request failed with one of the distribution spec's error codes; <see cref="DistributionErrors"/> renders it.</summary>
internal sealed class DistributionException(string code, string message, int statusCode, object? detail = null) : Exception(message)
{
    public string Code { get; } = code;

    public int StatusCode { get; } = statusCode;

    public object? Detail { get; } = detail;
}
