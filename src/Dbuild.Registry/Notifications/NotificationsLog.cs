using Microsoft.Extensions.Logging;

namespace Dbuild.Registry;

/// <summary>Notification log events (6401-6406), kept beside the notifications code.</summary>
internal static partial class Log
{
    [LoggerMessage(6401, LogLevel.Information, "Notifications: sending to endpoint {Endpoint} at {Url} (timeout {Timeout})")]
    public static partial void NotificationEndpointConfigured(ILogger logger, string endpoint, Uri url, TimeSpan timeout);

    [LoggerMessage(6402, LogLevel.Warning, "Notification endpoint {Endpoint} answered {Status}; the event is retried")]
    public static partial void NotificationRejected(ILogger logger, string endpoint, int status);

    [LoggerMessage(6403, LogLevel.Warning, "Notification endpoint {Endpoint} unreachable: {Reason}; the event is retried")]
    public static partial void NotificationUnreachable(ILogger logger, string endpoint, string reason);

    [LoggerMessage(6404, LogLevel.Warning, "Notification endpoint {Endpoint} failed {Failures} times in a row; retrying every {Backoff}")]
    public static partial void NotificationEndpointFailing(ILogger logger, string endpoint, int failures, TimeSpan backoff);

    [LoggerMessage(6405, LogLevel.Error, "Notification queue of endpoint {Endpoint} could not be read; retrying")]
    public static partial void NotificationQueueFailed(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(6406, LogLevel.Error, "Notification for endpoint {Endpoint} ({Action} in {Repository}) could not be queued in storage and is lost")]
    public static partial void NotificationLost(ILogger logger, string endpoint, string action, string repository, Exception exception);
}
