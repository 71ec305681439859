namespace Dbuild.Registry.Notifications;

/// <summary>registry:2's <c>notifications</c> section: the webhook endpoints and <c>events.includereferences</c>.</summary>
public sealed class NotificationSettings
{
    /// <summary><c>notifications.endpoints</c>, disabled ones included.</summary>
    public IList<NotificationEndpoint> Endpoints { get; } = [];

    /// <summary>The endpoints that are sent to.</summary>
    public IReadOnlyList<NotificationEndpoint> Active => Endpoints.Where(e => !e.Disabled).ToList();

    /// <summary>True when any endpoint is sent to.</summary>
    public bool Enabled => Endpoints.Any(e => !e.Disabled);

    /// <summary>Copies every setting from <paramref name="other"/>.</summary>
    public void CopyFrom(NotificationSettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Endpoints.Clear();
        foreach (NotificationEndpoint endpoint in other.Endpoints) { Endpoints.Add(endpoint); }
    }
}
