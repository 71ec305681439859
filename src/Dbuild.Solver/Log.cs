using Microsoft.Extensions.Logging;

namespace Dbuild.Solver;

internal static partial class Log
{
    [LoggerMessage(4001, LogLevel.Debug, "Step {Step} cache hit {Key}")]
    public static partial void CacheHit(ILogger logger, string step, string key);

    [LoggerMessage(4002, LogLevel.Debug, "Step {Step} cache miss {Key}: {Reason}")]
    public static partial void CacheMiss(ILogger logger, string step, string key, string reason);

    [LoggerMessage(4003, LogLevel.Debug, "Layer of {Entries} entries made before as {Digest}: reused without writing it")]
    public static partial void LayerReused(ILogger logger, int entries, string digest);

    [LoggerMessage(4004, LogLevel.Debug, "Early upload of {Digest} to {Repository} failed (the push tries it again): {Reason}")]
    public static partial void EarlyUploadFailed(ILogger logger, string digest, string repository, string reason);

    [LoggerMessage(4005, LogLevel.Debug, "Downloading cache blob {Digest} from {Place}: a step reads it")]
    public static partial void CacheBlobFetch(ILogger logger, string digest, string place);

    [LoggerMessage(4006, LogLevel.Warning, "Cache {Cache}: {Reason}")]
    public static partial void CacheWarning(ILogger logger, string cache, string reason);

    [LoggerMessage(4050, LogLevel.Information, "Build cache GC freed {Freed} bytes; the cache holds {Size} bytes, its limit is {Limit}")]
    public static partial void CacheCollected(ILogger logger, long freed, long size, long limit);

    [LoggerMessage(4051, LogLevel.Warning, "Build cache GC stopped: {Reason}. 'dbuild builder prune' removes the rest")]
    public static partial void CacheCollectionFailed(ILogger logger, string reason);

    [LoggerMessage(4160, LogLevel.Debug, "Build cache collection deferred: another dbuild process is using the state root")]
    public static partial void CacheCollectionDeferred(ILogger logger);

    [LoggerMessage(4161, LogLevel.Information, "Waiting for a prune running on {StateRoot} to finish")]
    public static partial void WaitingForPrune(ILogger logger, string stateRoot);
}
