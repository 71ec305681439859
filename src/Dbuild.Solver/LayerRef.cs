using Dbuild.Oci;
using Dbuild.Runtime;

namespace Dbuild.Solver;

/// <summary>
/// A layer of a filesystem result: a blob in the content store (base image layers, and a build's own layers where it
/// keeps no snapshots), or a layer the build made and keeps as a snapshot directory, written as a tar only when an
/// exported image needs it (as BuildKit does).
/// </summary>
internal sealed record ChainLayer
{
    public LayerRef? Blob { get; init; }

    /// <summary>The snapshot id (the step's cache key) of a kept layer.</summary>
    public Digest? Snapshot { get; init; }

    /// <summary>A RUN's snapshot: its tar holds only what differs from the layers below (files it merely copied up are left out).</summary>
    public bool OnlyChanges { get; init; }

    public static ChainLayer Of(LayerRef blob) => new() { Blob = blob };

    /// <summary>The layer as the runtime takes it: a kept snapshot, or a blob to unpack (once per chain; an imported cache's is downloaded then).</summary>
    public LayerSource ToSource(Cache.LazyBlobs blobs)
    {
        if (Snapshot is { } id) { return LayerSource.ForSnapshot(id); }
        LayerRef blob = Blob ?? throw new InvalidOperationException("A layer has neither a blob nor a snapshot.");
        return new LayerSource(blob.DiffId, ct => blobs.OpenAsync(blob.Blob.Digest, ct));
    }
}

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
