using System.Net;
using System.Net.Http.Headers;
using Dbuild.Oci;
using Dbuild.Registry.Client.Resilience;

namespace Dbuild.Registry.Client;

public sealed partial class RegistryClient
{
    /// <summary>
    /// The body of a blob GET as a <see cref="ResumingReadStream"/>: reads time out after <see cref="RegistryClientOptions.ReadTimeout"/>
    /// without a byte, and a read that stalled or was cut resumes with <c>Range: bytes=N-</c> (registry:2 answers 206;
    /// a server that answers 200 has the first N bytes dropped), up to <see cref="RegistryClientOptions.MaxAttempts"/> attempts.
    /// </summary>
    private async Task<Stream> ResumableBlobBodyAsync(HttpResponseMessage response, string registry, string repository, Digest digest, Uri uri,
        CancellationToken cancellationToken)
    {
        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return new ResumingReadStream(response, body, (offset, token) => ReopenBlobAsync(registry, repository, digest, uri, offset, token), _readRetry,
            registry, $"GET {uri.AbsolutePath}", _options, (ex, gaveUp) => TransportFailure(registry, ex, gaveUp));
    }

    /// <summary>A body read under the idle timeout, not resumed (a manifest: small, read whole, verified by digest).</summary>
    private async Task<Stream> TimedBodyAsync(HttpResponseMessage response, string registry, Uri uri, CancellationToken cancellationToken)
    {
        Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return new ResumingReadStream(response, body, reopen: null, _readRetry, registry, $"GET {uri.AbsolutePath}", _options,
            (ex, gaveUp) => TransportFailure(registry, ex, gaveUp));
    }

    private async Task<ReopenedBody> ReopenBlobAsync(string registry, string repository, Digest digest, Uri uri, long offset, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = await SendPullAsync(registry, repository, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (offset > 0) { request.Headers.Range = new RangeHeaderValue(offset, null); }
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == offset)
            {
                return new ReopenedBody(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), 0);
            }
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return new ReopenedBody(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), offset);
            }
            throw await ErrorAsync(response, $"Resuming blob {digest} from {registry}/{repository} at byte {offset}", registry, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }
}
