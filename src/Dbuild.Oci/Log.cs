using Microsoft.Extensions.Logging;

namespace Dbuild.Oci;

/// <summary>Source-generated log messages of Dbuild.Oci (event IDs 1000–1999).</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Debug, "Committed blob {Digest} ({Size} bytes) to {Path}")]
    public static partial void BlobCommitted(ILogger logger, Digest digest, long size, string path);
}
