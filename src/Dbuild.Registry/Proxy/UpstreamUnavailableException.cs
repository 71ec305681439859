namespace Dbuild.Registry.Proxy;

/// <summary>
/// The upstream of a pull-through cache could not answer: unreachable, too slow, a 5xx, refused credentials, or content
/// that does not match its digest. "Not there" is not this: the upstream client returns null for a 404.
/// </summary>
internal sealed class UpstreamUnavailableException(string upstream, string message, Exception? inner = null)
    : Exception($"Upstream {upstream}: {message}", inner)
{
    /// <summary>The upstream's base URL, for logs.</summary>
    public string Upstream { get; } = upstream;
}
