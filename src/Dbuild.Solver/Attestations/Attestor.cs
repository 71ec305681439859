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
    /// <summary>Null when the request asks for no attestations.</summary>
    public static Attestor? For(ContentStore store, BuilderOptions options, BuildRequest request, DateTimeOffset startedOn, IEnumerable<OpNode> roots) =>
        request.Attestations.Any ? new Attestor(store, options, request, startedOn, [.. roots.Select(r => BuildGraph.Reachable([r]))]) : null;

    /// <summary>Attaches attestations to each image (in the order of the roots given to <see cref="For"/>); returns the referrer manifests written.</summary>
    public async Task<IReadOnlyList<Descriptor>> AttachAsync(IReadOnlyList<Descriptor> images, Action<string> log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(log);
        if (!request.PushesImage && !request.Outputs.Any(o => o.Type == BuildOutputType.Oci))
        {
            // As buildx with the docker exporter: the local image store keeps images, not their attestations.
            log("WARN: attestations are attached to pushed images (--push) and OCI layouts (--output type=oci) only; none kept for this build");
            return [];
        }
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
        if (request.PushesImage)
        {
            await AttestationPusher.PushAsync(store, options.Registry, request.Tags, referrers, log, cancellationToken).ConfigureAwait(false);
        }
        return referrers;
    }
}
