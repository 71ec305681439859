using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Solver.Attestations;

/// <summary>
/// Pushes referrer artifacts after their image, to every repository the image was pushed to: the blobs (empty config,
/// statements), then the manifest by digest through <see cref="RegistryClient.PushReferrerAsync"/>, which falls back to
/// the referrers tag schema on a registry without the referrers API.
/// </summary>
internal static class AttestationPusher
{
    public static async Task PushAsync(ContentStore store, RegistryClient? client, IReadOnlyList<Reference> tags, IReadOnlyList<Descriptor> referrers,
        Action<string> log, CancellationToken cancellationToken)
    {
        if (client is null) { throw new BuildException("Pushing attestations needs a registry client."); }
        foreach (Reference repository in tags.DistinctBy(t => (t.Registry, t.Repository)))
        {
            foreach (Descriptor referrer in referrers)
            {
                byte[] bytes = await store.ReadBlobBytesAsync(referrer.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
                ImageManifest manifest = ImageManifest.Parse(bytes);
                await Task.WhenAll(manifest.Layers.Prepend(manifest.Config).DistinctBy(b => b.Digest).Select(blob =>
                    client.PushBlobAsync(repository.Registry, repository.Repository, new BlobUpload(blob.Digest, blob.Size, () => store.OpenBlob(blob.Digest)), cancellationToken)))
                    .ConfigureAwait(false);
                ReferrerPushOutcome outcome = await client.PushReferrerAsync(repository.Registry, repository.Repository, new ManifestUpload(MediaTypes.OciManifest, bytes),
                    cancellationToken).ConfigureAwait(false);
                log(outcome == ReferrerPushOutcome.ReferrersApi
                    ? $"pushing attestations {referrer.Digest} to {repository.Name} done"
                    : $"pushing attestations {referrer.Digest} to {repository.Name} done (no referrers API: listed under tag {RegistryClient.ReferrersTag(manifest.Subject!.Digest)})");
            }
        }
    }
}
