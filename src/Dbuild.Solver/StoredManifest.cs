using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// One image manifest of a stored image (the image itself, or one platform's entry of its index): the manifest when
/// its blob is in the store, and the config and layers the store lacks. Foreign layers are never stored, so never missing.
/// </summary>
public sealed record StoredManifest(Descriptor Descriptor, ImageManifest? Manifest, IReadOnlyList<Descriptor> MissingBlobs)
{
    /// <summary>buildx's annotation marking an index entry as an attestation manifest (not an image to run).</summary>
    public const string ReferenceTypeAnnotation = "vnd.docker.reference.type";

    /// <summary>The manifest, its config and every (distributable) layer are in the store.</summary>
    public bool IsPresent => Manifest is not null && MissingBlobs.Count == 0;

    /// <summary>The platform the index lists it under; null for a lone manifest or an entry without one.</summary>
    public Platform? Platform => Descriptor.Platform;

    /// <summary>An attestation manifest (buildx provenance/SBOM, listed as <c>unknown/unknown</c>), not a runnable image.</summary>
    public bool IsAttestation => Descriptor.Annotations?.GetValueOrDefault(ReferenceTypeAnnotation) == "attestation-manifest"
        || Descriptor.Platform is { Os: "unknown" };

    /// <summary>The config and the distributable layers, the blobs a manifest needs besides itself.</summary>
    public static IEnumerable<Descriptor> BlobsOf(ImageManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.Layers.Where(l => !MediaTypes.IsForeignLayer(l.MediaType)).Prepend(manifest.Config);
    }
}
