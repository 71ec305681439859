namespace Dbuild.Dockerfile;

/// <summary>RUN <c>--mount</c> types.</summary>
public enum MountType
{
    /// <summary>A directory or file from the context, a stage or an image (read-only by default).</summary>
    Bind,
    /// <summary>A persistent cache directory (read-write, sharing=shared, mode 0755).</summary>
    Cache,
    /// <summary>A tmpfs (read-write).</summary>
    Tmpfs,
    /// <summary>A secret file or environment variable (read-only, mode 0400).</summary>
    Secret,
    /// <summary>An SSH agent socket (read-only, id=default, mode 0600).</summary>
    Ssh,
}
