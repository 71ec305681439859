namespace Dbuild.Dockerfile;

/// <summary>RUN <c>--network</c>.</summary>
public enum NetworkMode
{
    /// <summary>The build's default network.</summary>
    Default,
    /// <summary>No network.</summary>
    None,
    /// <summary>The host's network (needs the network.host entitlement).</summary>
    Host,
}
