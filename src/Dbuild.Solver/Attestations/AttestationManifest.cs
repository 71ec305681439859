using Dbuild.Oci;

namespace Dbuild.Solver.Attestations;

/// <summary>
/// The OCI 1.1 artifact that carries an image's attestations as a referrer of its manifest: an image manifest with
/// <c>artifactType</c> application/vnd.in-toto+json, the empty config (<c>{}</c>), one application/vnd.in-toto+json
/// layer per statement annotated with its <c>in-toto.io/predicate-type</c>, and <c>subject</c> naming the image
/// manifest. The image itself is untouched, so its digest is the same with or without attestations. BuildKit's
/// <c>vnd.docker.reference.*</c> annotations go on the manifest too, so tools that know buildx's form recognise it.
/// </summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/manifest.md#guidelines-for-artifact-usage</remarks>
internal static class AttestationManifest
{
    public const string ReferenceTypeAnnotation = "vnd.docker.reference.type";
    public const string ReferenceDigestAnnotation = "vnd.docker.reference.digest";
    private static readonly byte[] EmptyJson = "{}"u8.ToArray();

    /// <summary>Writes the statements, the empty config and the manifest into the store; returns the manifest's descriptor (with artifactType and annotations, as an index lists it).</summary>
    public static async Task<Descriptor> WriteAsync(ContentStore store, Descriptor image, IReadOnlyList<(string PredicateType, byte[] Statement)> statements,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(statements);
        Descriptor config = await store.WriteBlobAsync(EmptyJson, MediaTypes.OciEmpty, cancellationToken).ConfigureAwait(false);
        var layers = new List<Descriptor>();
        foreach ((string predicateType, byte[] statement) in statements)
        {
            Descriptor layer = await store.WriteBlobAsync(statement, InTotoStatement.MediaType, cancellationToken).ConfigureAwait(false);
            layers.Add(layer with { Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [InTotoStatement.PredicateTypeAnnotation] = predicateType } });
        }
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ReferenceDigestAnnotation] = image.Digest.ToString(),
            [ReferenceTypeAnnotation] = "attestation-manifest",
        };
        var manifest = new ImageManifest(MediaTypes.OciManifest, config, layers)
        {
            ArtifactType = InTotoStatement.MediaType,
            Subject = new Descriptor(image.MediaType, image.Digest, image.Size),
            Annotations = annotations,
        };
        Descriptor stored = await store.WriteBlobAsync(manifest.ToJsonBytes(), MediaTypes.OciManifest, cancellationToken).ConfigureAwait(false);
        return stored with { ArtifactType = InTotoStatement.MediaType, Annotations = annotations };
    }
}
