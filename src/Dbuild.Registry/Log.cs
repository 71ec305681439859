using Dbuild.Oci;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry;

/// <summary>Source-generated log messages of the registry (event ids 6000-6999).</summary>
internal static partial class Log
{
    [LoggerMessage(6001, LogLevel.Information, "{Method} {Path} {Status} in={BytesIn} out={BytesOut} {DurationMs}ms user={User} remote={Remote}")]
    public static partial void Access(ILogger logger, string method, string path, int status, long bytesIn, long bytesOut, long durationMs, string user, string remote);

    [LoggerMessage(6002, LogLevel.Debug, "Committed blob {Digest} ({Size} bytes) to {Repository}; new content: {Stored}")]
    public static partial void BlobCommitted(ILogger logger, string repository, Digest digest, long size, bool stored);

    [LoggerMessage(6003, LogLevel.Warning, "Upload {Id} to {Repository} was deleted: expected {Expected}, got {Actual}")]
    public static partial void UploadDigestMismatch(ILogger logger, string repository, string id, Digest expected, Digest actual);

    [LoggerMessage(6004, LogLevel.Debug, "Stored manifest {Digest} in {Repository} (tag '{Tag}')")]
    public static partial void ManifestStored(ILogger logger, string repository, Digest digest, string tag);

    [LoggerMessage(6005, LogLevel.Information, "Purging upload {Id} of {Repository} started at {StartedAt} (dry run: {DryRun})")]
    public static partial void UploadPurged(ILogger logger, string repository, string id, string startedAt, bool dryRun);

    [LoggerMessage(6006, LogLevel.Error, "Upload purge failed")]
    public static partial void UploadPurgeFailed(ILogger logger, Exception exception);

    [LoggerMessage(6007, LogLevel.Warning, "Rejected credentials for a Basic login from {Remote}")]
    public static partial void AuthenticationFailed(ILogger logger, string remote);

    [LoggerMessage(6008, LogLevel.Error, "Unexpected failure on {Method} {Path}")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(6009, LogLevel.Warning, "{Message}")]
    public static partial void ConfigurationWarning(ILogger logger, string message);

    [LoggerMessage(6010, LogLevel.Information, "Registry listening on {Address} (TLS: {Tls}, auth: {Auth}, storage: {Root}, read-only: {ReadOnly})")]
    public static partial void Listening(ILogger logger, string address, bool tls, bool auth, string root, bool readOnly);

    [LoggerMessage(6011, LogLevel.Warning, "htpasswd file {Path} could not be read; every login is refused until it can be")]
    public static partial void HtpasswdUnreadable(ILogger logger, Exception exception, string path);

    [LoggerMessage(6012, LogLevel.Information, "Upload purge removed {Count} upload(s) older than {Age}")]
    public static partial void UploadPurgeDone(ILogger logger, int count, TimeSpan age);

    [LoggerMessage(6013, LogLevel.Information, "GC pass: {Marked} marked; swept {Blobs} blob(s) ({Bytes} bytes), {Manifests} manifest(s), {Links} layer link(s), {Uploads} upload(s) in {DurationMs}ms (dry run: {DryRun})")]
    public static partial void GcPassDone(ILogger logger, int marked, int blobs, long bytes, int manifests, int links, int uploads, long durationMs, bool dryRun);

    [LoggerMessage(6014, LogLevel.Error, "GC pass failed; nothing more was deleted, the next pass starts over")]
    public static partial void GcPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(6015, LogLevel.Debug, "GC: {Line}")]
    public static partial void GcDetail(ILogger logger, string line);

    [LoggerMessage(6020, LogLevel.Information, "Bearer token refused: {Reason}")]
    public static partial void TokenRefused(ILogger logger, string reason);

    [LoggerMessage(6021, LogLevel.Debug, "Issued a token to {Account}: {Scopes}")]
    public static partial void TokenIssued(ILogger logger, string account, string scopes);

    [LoggerMessage(6022, LogLevel.Warning, "Rejected credentials for a token request from {Remote}")]
    public static partial void TokenLoginFailed(ILogger logger, string remote);
}
