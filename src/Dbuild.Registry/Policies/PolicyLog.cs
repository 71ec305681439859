using Dbuild.Oci;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry;

/// <summary>The policies' log messages (event ids 6500-6519 of the registry's range).</summary>
internal static partial class Log
{
    [LoggerMessage(6501, LogLevel.Information, "Policy: refused {Action} of {Repository}:{Tag}: immutable by {Rule}")]
    public static partial void ImmutableTagRefused(ILogger logger, string action, string repository, string tag, string rule);

    [LoggerMessage(6502, LogLevel.Information, "Policy: refused {Digest} ({Size} bytes) in {Repository}: {Rule} allows {Limit} bytes, {Used} stored")]
    public static partial void QuotaRefused(ILogger logger, string repository, Digest digest, long size, string rule, long limit, long used);

    [LoggerMessage(6503, LogLevel.Information, "Retention: removed tag {Repository}:{Tag} ({Digest}, written {Written}) by {Rule}")]
    public static partial void RetentionRemovedTag(ILogger logger, string repository, string tag, Digest digest, DateTimeOffset written, string rule);

    [LoggerMessage(6504, LogLevel.Information, "Retention: {Count} tag(s) removed before the GC mark (dry run: {DryRun})")]
    public static partial void RetentionPassDone(ILogger logger, int count, bool dryRun);
}
