using Dbuild.Oci;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Client;

internal static partial class Log
{
    [LoggerMessage(5001, LogLevel.Debug, "Retrying a request to {Registry} after attempt {Attempt} in {Delay}: {Reason}")]
    public static partial void Retrying(ILogger logger, string registry, int attempt, string reason, TimeSpan delay);

    [LoggerMessage(5002, LogLevel.Debug, "Blob {Digest} already in {Repository}")]
    public static partial void BlobExists(ILogger logger, Digest digest, string repository);

    [LoggerMessage(5003, LogLevel.Debug, "Mounted blob {Digest} into {Repository} from {Source}")]
    public static partial void BlobMounted(ILogger logger, Digest digest, string repository, string source);

    [LoggerMessage(5004, LogLevel.Debug, "Uploaded blob {Digest} ({Size} bytes) to {Repository}")]
    public static partial void BlobUploaded(ILogger logger, Digest digest, long size, string repository);

    [LoggerMessage(5005, LogLevel.Debug, "Pushed manifest {Digest} to {Repository} as {Reference}")]
    public static partial void ManifestPushed(ILogger logger, Digest digest, string repository, string reference);

    [LoggerMessage(5006, LogLevel.Debug, "{Host} does not speak TLS ({Reason}); using plain HTTP, as for an insecure registry")]
    public static partial void FallingBackToHttp(ILogger logger, string host, string reason);

    [LoggerMessage(5007, LogLevel.Debug, "Mirror {Mirror} of {Registry} did not answer {Path}: {Reason}")]
    public static partial void MirrorMissed(ILogger logger, string mirror, string registry, string path, string reason);
}
