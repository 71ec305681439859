using Dbuild.Oci;
using Microsoft.Extensions.Logging;

namespace Dbuild.Runtime;

internal static partial class Log
{
    [LoggerMessage(3001, LogLevel.Debug, "Unpacked layer {DiffId} as snapshot {ChainId} in {Duration}")]
    public static partial void SnapshotUnpacked(ILogger logger, Digest diffId, Digest chainId, TimeSpan duration);

    [LoggerMessage(3002, LogLevel.Warning, "overlayfs is not usable here ({Reason}); using the copying snapshotter, which is slower")]
    public static partial void OverlayUnavailable(ILogger logger, string reason);

    [LoggerMessage(3003, LogLevel.Debug, "Running step {ContainerId} with {Runtime}: {Command}")]
    public static partial void StepStarting(ILogger logger, string containerId, string runtime, string command);

    [LoggerMessage(3004, LogLevel.Debug, "Step {ContainerId} exited {ExitCode} after {Duration}")]
    public static partial void StepExited(ILogger logger, string containerId, int exitCode, TimeSpan duration);

    [LoggerMessage(3005, LogLevel.Warning, "Cleaning up step {ContainerId} failed: {Message}")]
    public static partial void CleanupFailed(ILogger logger, string containerId, string message);

    [LoggerMessage(3006, LogLevel.Information, "Using OCI runtime {Runtime} ({Reason})")]
    public static partial void RuntimeChosen(ILogger logger, string runtime, string reason);

    [LoggerMessage(3007, LogLevel.Debug, "Step {ContainerId} produced layer {Digest} ({Size} bytes)")]
    public static partial void LayerCreated(ILogger logger, string containerId, Digest digest, long size);

    [LoggerMessage(3008, LogLevel.Debug, "Step {ContainerId}: network namespace with slirp4netns ready in {Duration}")]
    public static partial void NetworkReady(ILogger logger, string containerId, TimeSpan duration);
}
