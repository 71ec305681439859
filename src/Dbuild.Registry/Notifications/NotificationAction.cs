namespace Dbuild.Registry.Notifications;

/// <summary>registry:2's event actions.</summary>
internal static class NotificationAction
{
    public const string Push = "push";
    public const string Pull = "pull";
    public const string Delete = "delete";
    public const string Mount = "mount";
}
