using Dbuild.Oci;

namespace Dbuild.Runtime;

/// <summary>Which OCI runtime runs steps.</summary>
public enum OciRuntimeKind
{
    /// <summary>crun when it works on this machine, else runc.</summary>
    Auto,

    /// <summary>runc.</summary>
    Runc,

    /// <summary>crun.</summary>
    Crun,
}

/// <summary>How snapshots are materialised.</summary>
public enum SnapshotterKind
{
    /// <summary>overlay when the kernel allows it here, else the copying fallback (with a one-line notice).</summary>
    Auto,

    /// <summary>overlayfs: parent snapshots as lowerdirs, a fresh upper dir per step.</summary>
    Overlay,

    /// <summary>Copy the parent tree and diff by walking it (slow, works everywhere).</summary>
    Native,
}

/// <summary>Configuration of <see cref="StepExecutor"/>. The CLI fills it from flags and environment (DBUILD_RUNTIME).</summary>
public sealed record StepExecutorOptions
{
    /// <summary>The state root (e.g. /var/lib/dbuild); snapshots, cache mounts, runtime state and temp files live under <c>runtime/</c> in it.</summary>
    public required string StateRoot { get; init; }

    /// <summary>Runtime choice.</summary>
    public OciRuntimeKind Runtime { get; init; } = OciRuntimeKind.Auto;

    /// <summary>Explicit path of the runtime binary; null = look up <c>runc</c>/<c>crun</c> on PATH.</summary>
    public string? RuntimePath { get; init; }

    /// <summary>Rootless mode (user namespace via newuidmap/newgidmap). Null = rootless exactly when not running as root.</summary>
    public bool? Rootless { get; init; }

    /// <summary>Snapshotter choice.</summary>
    public SnapshotterKind Snapshotter { get; init; } = SnapshotterKind.Auto;

    /// <summary>Default compression of step layers.</summary>
    public LayerCompression Compression { get; init; } = LayerCompression.Gzip;

    /// <summary>Compression level; null = the codec's default.</summary>
    public int? CompressionLevel { get; init; }
}
