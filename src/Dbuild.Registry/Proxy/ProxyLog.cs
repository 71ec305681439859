using Dbuild.Oci;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry;

/// <summary>The pull-through cache's log messages (event ids 6300-6319 of the registry's range).</summary>
internal static partial class Log
{
    [LoggerMessage(6301, LogLevel.Information, "Proxy: cached manifest {Digest} of {Repository} (tag '{Tag}') from {Upstream}")]
    public static partial void ProxyManifestCached(ILogger logger, string repository, Digest digest, string tag, string upstream);

    [LoggerMessage(6302, LogLevel.Warning, "Proxy: serving the cached {Repository}:{Tag} ({Digest}); upstream could not be asked: {Reason}")]
    public static partial void ProxyServingCachedTag(ILogger logger, string repository, string tag, Digest digest, string reason);

    [LoggerMessage(6303, LogLevel.Warning, "Proxy: {Repository} {Reference}: {Reason}")]
    public static partial void ProxyUpstreamFailed(ILogger logger, string repository, string reference, string reason);

    [LoggerMessage(6304, LogLevel.Information, "Proxy: cached blob {Digest} ({Size} bytes) of {Repository} from {Upstream} (client left before the end: {ClientLeft})")]
    public static partial void ProxyBlobCached(ILogger logger, string repository, Digest digest, long size, string upstream, bool clientLeft);
}
