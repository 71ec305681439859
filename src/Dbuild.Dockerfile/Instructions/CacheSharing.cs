namespace Dbuild.Dockerfile;

/// <summary>Cache mount <c>sharing</c>.</summary>
public enum CacheSharing
{
    /// <summary>Concurrent writers share one cache.</summary>
    Shared,
    /// <summary>Each writer gets its own cache.</summary>
    Private,
    /// <summary>Writers wait for each other.</summary>
    Locked,
}
