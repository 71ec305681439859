using Dbuild.Oci;

namespace Dbuild.Registry.Client;

/// <summary>A manifest or index as the registry served it: the exact bytes (their digest is the manifest's digest) and its media type.</summary>
public sealed record ManifestResponse(Digest Digest, string MediaType, ReadOnlyMemory<byte> Content)
{
    /// <summary>The size of <see cref="Content"/> in bytes.</summary>
    public long Size => Content.Length;
}

/// <summary>An image manifest resolved for one platform, and the index it was picked from (if the reference named one).</summary>
public sealed record ResolvedImage(ManifestResponse Manifest, ManifestResponse? Index);

/// <summary>A blob to push: its digest and size, and how to open its bytes (opened again for each retry).</summary>
public sealed record BlobUpload(Digest Digest, long Size, Func<Stream> OpenRead)
{
    /// <summary>A repository on the same registry that already has the blob; the push mounts it from there instead of uploading.</summary>
    public string? MountFrom { get; init; }
}

/// <summary>A manifest or index to push, byte for byte.</summary>
public sealed record ManifestUpload(string MediaType, ReadOnlyMemory<byte> Content)
{
    /// <summary>The digest of <see cref="Content"/>.</summary>
    public Digest Digest { get; } = Digest.Compute(Content.Span);
}

/// <summary>How a blob reached the registry.</summary>
public enum BlobPushOutcome
{
    /// <summary>The registry had it already (HEAD 200); nothing was sent.</summary>
    AlreadyExists,
    /// <summary>Mounted from another repository on the same registry.</summary>
    Mounted,
    /// <summary>Uploaded.</summary>
    Uploaded,
}
