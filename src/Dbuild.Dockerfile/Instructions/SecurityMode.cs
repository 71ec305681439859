namespace Dbuild.Dockerfile;

/// <summary>RUN <c>--security</c>.</summary>
public enum SecurityMode
{
    /// <summary>The default sandbox.</summary>
    Sandbox,
    /// <summary>Privileged (needs the security.insecure entitlement).</summary>
    Insecure,
}
