using System.Net;
using System.Net.Http.Headers;
using Dbuild.Oci;

namespace Dbuild.Registry.Client;

public sealed partial class RegistryClient
{
    /// <summary>
    /// Pushes a manifest that has a <c>subject</c> (an attestation, a signature) by its digest, as the distribution spec
    /// 1.1 asks of a client: a registry with the referrers API answers with <c>OCI-Subject</c> and lists it from then on;
    /// without that header the registry has no referrers API (registry:2 before 3.0), and the client keeps the
    /// referrers list itself under the referrers tag schema (<c>sha256-&lt;hex&gt;</c>): pull it (an empty index when the
    /// tag is missing), add a descriptor for this manifest (its artifactType, else its config's media type, and its
    /// annotations) unless one is there, push it back under the tag.
    /// </summary>
    /// <returns>Whether the registry indexed the manifest itself or the fallback tag was updated.</returns>
    /// <exception cref="RegistryException">The push failed, or the fallback tag holds something other than an image index.</exception>
    /// <remarks>https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-manifests-with-subject</remarks>
    public async Task<ReferrerPushOutcome> PushReferrerAsync(string registry, string repository, ManifestUpload manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ImageManifest parsed = ImageManifest.Parse(manifest.Content.Span);
        Descriptor subject = parsed.Subject ?? throw new ArgumentException($"Manifest {manifest.Digest} has no subject: push it with PushManifestAsync.", nameof(manifest));
        string? accepted = await PutManifestAsync(registry, repository, manifest.Digest.ToString(), manifest, cancellationToken).ConfigureAwait(false);
        if (accepted is not null) { return ReferrerPushOutcome.ReferrersApi; }

        string tag = ReferrersTag(subject.Digest);
        ImageIndex current = await GetReferrersTagAsync(registry, repository, tag, cancellationToken).ConfigureAwait(false) ?? EmptyReferrers();
        if (current.Manifests.Any(d => d.Digest == manifest.Digest)) { return ReferrerPushOutcome.FallbackTag; }
        var entry = new Descriptor(manifest.MediaType, manifest.Digest, manifest.Content.Length)
        {
            ArtifactType = parsed.ArtifactType ?? parsed.Config.MediaType,
            Annotations = parsed.Annotations,
        };
        var updated = new ImageIndex(MediaTypes.OciIndex, [.. current.Manifests, entry]);
        await PutManifestAsync(registry, repository, tag, new ManifestUpload(MediaTypes.OciIndex, updated.ToJsonBytes()), cancellationToken).ConfigureAwait(false);
        return ReferrerPushOutcome.FallbackTag;
    }

    /// <summary>
    /// The referrers of <paramref name="subject"/>: from the referrers API (<c>GET /v2/NAME/referrers/DIGEST</c>), or,
    /// when the registry answers 404 there, from the referrers tag schema, as the spec tells a client to; an empty index
    /// when neither has any.
    /// </summary>
    /// <remarks>https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers</remarks>
    public async Task<ImageIndex> GetReferrersAsync(string registry, string repository, Digest subject, CancellationToken cancellationToken = default)
    {
        Uri uri = RepositoryUri(registry, repository, "referrers/" + subject);
        string action = $"Listing referrers of {subject} in {registry}/{repository}";
        using (HttpResponseMessage response = await SendAsync(registry, [PullScope(repository)], () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciIndex));
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, retry: true, cancellationToken).ConfigureAwait(false))
        {
            if (response.IsSuccessStatusCode) { return ImageIndex.Parse(await ReadCappedAsync(response, registry, uri, action, cancellationToken).ConfigureAwait(false)); }
            if (response.StatusCode != HttpStatusCode.NotFound) { throw await ErrorAsync(response, action, registry, cancellationToken).ConfigureAwait(false); }
        }
        return await GetReferrersTagAsync(registry, repository, ReferrersTag(subject), cancellationToken).ConfigureAwait(false) ?? EmptyReferrers();
    }

    /// <summary>The referrers tag schema: <c>&lt;alg&gt;-&lt;encoded&gt;</c>, at most 128 characters.</summary>
    /// <remarks>https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#referrers-tag-schema</remarks>
    public static string ReferrersTag(Digest subject)
    {
        string tag = $"{subject.Algorithm}-{subject.Encoded}";
        return tag.Length > 128 ? tag[..128] : tag;
    }

    /// <summary>The index under the fallback tag; null when the tag is missing.</summary>
    private async Task<ImageIndex?> GetReferrersTagAsync(string registry, string repository, string tag, CancellationToken cancellationToken)
    {
        if (!await ManifestExistsAsync(registry, repository, tag, cancellationToken).ConfigureAwait(false)) { return null; }
        ManifestResponse response = await GetManifestAsync(registry, repository, tag, cancellationToken).ConfigureAwait(false);
        if (!MediaTypes.IsIndex(response.MediaType))
        {
            throw new RegistryException($"The referrers tag {registry}/{repository}:{tag} holds a {response.MediaType}, not an image index; " +
                "remove that tag or push the referrer to a registry with the referrers API.", HttpStatusCode.Conflict, "MANIFEST_INVALID", false);
        }
        return ImageIndex.Parse(response.Content.Span);
    }

    private static ImageIndex EmptyReferrers() => new(MediaTypes.OciIndex, []);
}

/// <summary>Where a registry keeps a pushed referrer.</summary>
public enum ReferrerPushOutcome
{
    /// <summary>The registry has the referrers API and indexed the manifest (it answered with <c>OCI-Subject</c>).</summary>
    ReferrersApi,
    /// <summary>The registry lacks the referrers API; the referrers tag schema's index lists the manifest.</summary>
    FallbackTag,
}
