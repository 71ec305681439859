using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>A layer of a stage: its blob in the content store and its diffID; <see cref="Source"/> names the repository it came from, for mounts.</summary>
internal sealed record LayerRef(Descriptor Blob, Digest DiffId)
{
    public Reference? Source { get; init; }
}

/// <summary>A resolved base image: manifest digest (the cache key input), config, and layers present in the store.</summary>
internal sealed record BaseImage(Reference Reference, Digest ManifestDigest, ImageConfig Config, IReadOnlyList<LayerRef> Layers)
{
    /// <summary>
    /// BuildKit's InvalidBaseImagePlatform warning when the image's config names another OS or architecture than the
    /// stage's platform (<c>Base image X was pulled with platform "linux/amd64", expected "linux/arm/v7" for current build</c>); else null.
    /// </summary>
    public string? Warning { get; init; }
}
