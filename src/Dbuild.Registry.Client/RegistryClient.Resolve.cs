using System.Net;
using System.Net.Http.Headers;
using Dbuild.Oci;

namespace Dbuild.Registry.Client;

public sealed partial class RegistryClient
{
    /// <summary>
    /// The digest a tag or digest names now (<c>HEAD</c> with every manifest type in <c>Accept</c>, read from
    /// <c>Docker-Content-Digest</c>), without downloading the manifest; null when the registry sends no digest header
    /// (then only a GET can tell). Throws <see cref="RegistryException"/> (404 when the repository has no such manifest).
    /// </summary>
    /// <remarks>https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#checking-if-content-exists-in-the-registry</remarks>
    public async Task<Digest?> ResolveManifestDigestAsync(string registry, string repository, string reference, CancellationToken cancellationToken = default)
    {
        using HttpResponseMessage response = await HeadManifestAsync(registry, repository, reference, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw response.StatusCode == HttpStatusCode.NotFound
                ? new RegistryException($"Checking manifest {reference} in {registry}/{repository} failed: 404 MANIFEST_UNKNOWN.", HttpStatusCode.NotFound, "MANIFEST_UNKNOWN", false)
                : await ErrorAsync(response, $"Checking manifest {reference} in {registry}/{repository}", registry, cancellationToken).ConfigureAwait(false);
        }
        return response.Headers.TryGetValues("Docker-Content-Digest", out IEnumerable<string>? values) && Digest.TryParse(values.FirstOrDefault(), out Digest digest)
            ? digest
            : null;
    }

    /// <summary><c>HEAD</c> of a manifest with every manifest type in <c>Accept</c>; the caller reads the answer.</summary>
    private Task<HttpResponseMessage> HeadManifestAsync(string registry, string repository, string reference, CancellationToken cancellationToken)
    {
        Uri uri = RepositoryUri(registry, repository, "manifests/" + reference);
        return SendAsync(registry, [PullScope(repository)], () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Head, uri);
            foreach (string type in ManifestAccept) { request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type)); }
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, retry: true, cancellationToken);
    }
}
