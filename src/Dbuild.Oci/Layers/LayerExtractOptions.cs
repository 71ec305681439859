namespace Dbuild.Oci.Layers;

/// <summary>What to do with whiteout entries while extracting.</summary>
public enum WhiteoutHandling
{
    /// <summary>Delete what they name from the tree being extracted into (a flattened root filesystem).</summary>
    Apply,

    /// <summary>Turn them into overlayfs form: a 0/0 character device, and the opaque xattr on the directory (a snapshot).</summary>
    Overlay,

    /// <summary>Extract them as the empty <c>.wh.*</c> files they are.</summary>
    Keep,
}

/// <summary>How <see cref="LayerExtractor"/> writes a layer into a directory.</summary>
public sealed record LayerExtractOptions
{
    /// <summary>Whiteout handling.</summary>
    public WhiteoutHandling Whiteouts { get; init; } = WhiteoutHandling.Apply;

    /// <summary>The xattr marking an opaque directory in <see cref="WhiteoutHandling.Overlay"/> mode: <c>trusted.overlay.opaque</c>, or <c>user.overlay.opaque</c> for overlay mounted with <c>userxattr</c>.</summary>
    public string OverlayOpaqueXattr { get; init; } = "trusted.overlay.opaque";

    /// <summary>Allow character and block device nodes (false when rootless: they are refused).</summary>
    public bool AllowDeviceNodes { get; init; } = true;

    /// <summary>Set owners from the tar (needs root, or a user namespace covering the ids).</summary>
    public bool PreserveOwnership { get; init; } = true;

    /// <summary>Native operations; <see cref="BclLayerFileSystem"/> when null.</summary>
    public ILayerFileSystem? FileSystem { get; init; }

    /// <summary>When set, the uncompressed tar's sha256 must equal this, or <see cref="DigestMismatchException"/> is thrown after extraction.</summary>
    public Digest? ExpectedDiffId { get; init; }
}
