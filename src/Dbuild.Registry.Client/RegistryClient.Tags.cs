using System.Net.Http.Headers;
using System.Text.Json;

namespace Dbuild.Registry.Client;

public sealed partial class RegistryClient
{
    /// <summary>
    /// Every tag of a repository (<c>GET /v2/NAME/tags/list</c>), following the <c>Link: &lt;…&gt;; rel="next"</c> pages,
    /// in the order the registry lists them (lexical, per the spec).
    /// </summary>
    /// <remarks>https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-tags</remarks>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string registry, string repository, CancellationToken cancellationToken = default)
    {
        var tags = new List<string>();
        Uri? uri = RepositoryUri(registry, repository, "tags/list");
        string action = $"Listing the tags of {registry}/{repository}";
        for (int page = 0; uri is not null; page++)
        {
            if (page == 10_000) { throw new RegistryException($"{action} failed: more than 10000 pages.", null, null, false); }
            Uri current = uri;
            using HttpResponseMessage response = await SendAsync(registry, [PullScope(repository)], () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, current);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                return request;
            }, HttpCompletionOption.ResponseHeadersRead, retry: true, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) { throw await ErrorAsync(response, action, registry, cancellationToken).ConfigureAwait(false); }
            byte[] body = await ReadCappedAsync(response, registry, current, action, cancellationToken).ConfigureAwait(false);
            try
            {
                using JsonDocument document = JsonDocument.Parse(body);
                if (document.RootElement.TryGetProperty("tags", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
                {
                    tags.AddRange(list.EnumerateArray().Select(t => t.GetString()).OfType<string>());
                }
            }
            catch (JsonException ex)
            {
                throw new RegistryException($"{action} failed: the registry's answer is not JSON ({ex.Message}).", response.StatusCode, null, false, ex);
            }
            uri = NextPage(response, current);
        }
        return tags;
    }

    private static Uri? NextPage(HttpResponseMessage response, Uri current)
    {
        if (!response.Headers.TryGetValues("Link", out IEnumerable<string>? links)) { return null; }
        foreach (string link in links)
        {
            int open = link.IndexOf('<', StringComparison.Ordinal);
            int close = link.IndexOf('>', StringComparison.Ordinal);
            if (open >= 0 && close > open && link[close..].Contains("rel=\"next\"", StringComparison.Ordinal))
            {
                return new Uri(current, link[(open + 1)..close]);
            }
        }
        return null;
    }
}
