using System.Text.Json.Nodes;
using Dbuild.Oci;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Attestations;

/// <summary>
/// Makes a build's attestations once its images are written: per image (per platform), the provenance and SBOM
/// statements the request asks for, stored as one referrer artifact of the image manifest
/// (<see cref="AttestationManifest"/>), then pushed after the image when the build pushes (<see cref="AttestationPusher"/>).
/// Timestamps follow SOURCE_DATE_EPOCH when set, so the attestations are as deterministic as the image.
/// </summary>
internal sealed class Attestor(ContentStore store, BuilderOptions options, BuildRequest request, DateTimeOffset startedOn, IReadOnlyList<IReadOnlyList<OpNode>> stepsPerImage)
{
    /// <summary>
    /// Null when the request asks for no attestations, or has nowhere to put them: they go with a pushed image and into
    /// an OCI layout output, never into the local image store (as buildx with the docker exporter).
    /// </summary>
    public static Attestor? For(ContentStore store, BuilderOptions options, BuildRequest request, DateTimeOffset startedOn, IEnumerable<OpNode> roots) =>
        request.Attestations.Any && (request.PushesImage || request.Outputs.Any(o => o.Type == BuildOutputType.Oci))
            ? new Attestor(store, options, request, startedOn, [.. roots.Select(r => BuildGraph.Reachable([r]))]) : null;

    /// <summary>
    /// Attaches attestations to <paramref name="top"/>'s image, or to each image of an index (in the order of the roots
    /// given to <see cref="For"/>), pushing them after it when <paramref name="push"/>; returns the referrer manifests written.
    /// </summary>
    public async Task<IReadOnlyList<Descriptor>> AttachAsync(Descriptor top, bool push, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(top);
        ArgumentNullException.ThrowIfNull(log);
        IReadOnlyList<Descriptor> images = MediaTypes.IsIndex(top.MediaType)
            ? ImageIndex.Parse(await store.ReadBlobBytesAsync(top.Digest, cancellationToken: cancellationToken).ConfigureAwait(false)).Manifests
            : [top];
        AttestationRequest attest = request.Attestations;
        string? invocationId = request.SourceDateEpoch is null ? ProvenanceBuilder.NewInvocationId() : null;
        DateTimeOffset finishedOn = request.SourceDateEpoch ?? options.TimeProvider.GetUtcNow();
        var referrers = new List<Descriptor>();
        for (int i = 0; i < images.Count; i++)
        {
            Descriptor image = images[i];
            ImageManifest manifest = ImageManifest.Parse(await store.ReadBlobBytesAsync(image.Digest, cancellationToken: cancellationToken).ConfigureAwait(false));
            var statements = new List<(string PredicateType, byte[] Statement)>();
            if (attest.Provenance != ProvenanceMode.None)
            {
                JsonObject predicate = ProvenanceBuilder.Build(new ProvenanceInput
                {
                    Request = request,
                    Steps = stepsPerImage[i],
                    Layers = manifest.Layers,
                    StartedOn = startedOn,
                    FinishedOn = finishedOn,
                    InvocationId = invocationId,
                }, attest);
                statements.Add((ProvenanceBuilder.PredicateType, InTotoStatement.Serialize(ProvenanceBuilder.PredicateType, request.Tags, image, predicate)));
            }
            if (attest.Sbom)
            {
                SbomScan scan = await SbomScanner.ScanAsync(store, manifest.Layers, cancellationToken).ConfigureAwait(false);
                foreach (string warning in scan.Warnings) { log("WARN: " + warning); }
                string name = request.Tags.Count > 0 ? request.Tags[0].ToString() : "sbom";
                JsonObject document = SpdxDocumentBuilder.Build(scan, name, image.Digest, request.SourceDateEpoch ?? finishedOn);
                statements.Add((SpdxDocumentBuilder.PredicateType, InTotoStatement.Serialize(SpdxDocumentBuilder.PredicateType, request.Tags, image, document)));
                log($"sbom of {image.Digest}: {scan.Packages.Count} packages");
            }
            Descriptor referrer = await AttestationManifest.WriteAsync(store, image, statements, cancellationToken).ConfigureAwait(false);
            log($"attestation manifest {referrer.Digest} for {image.Digest} done");
            referrers.Add(referrer);
        }
        if (push)
        {
            await AttestationPusher.PushAsync(store, options.Registry, request.Tags, referrers, log, cancellationToken).ConfigureAwait(false);
        }
        return referrers;
    }
}
