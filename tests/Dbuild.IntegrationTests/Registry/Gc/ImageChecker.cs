using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dbuild.Oci;

namespace Dbuild.IntegrationTests.Registry.Gc;

/// <summary>Pulls an acknowledged image as a client would: manifest by tag, children by digest, every blob hashed.</summary>
internal static class ImageChecker
{
    /// <summary>What is missing or wrong; empty when the image pulls completely.</summary>
    public static async Task<List<string>> FindProblemsAsync(HttpClient client, string baseUrl, PushedImage image, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        string repository = image.Repository;
        foreach ((string reference, Digest expected) in (IEnumerable<(string, Digest)>)[(image.Tag, image.Digest), .. image.Children.Select(c => (c.ToString(), c))])
        {
            if (await GetDigestAsync(client, $"{baseUrl}/v2/{repository}/manifests/{reference}", cancellationToken) != expected)
            {
                problems.Add($"{repository}:{image.Tag}: manifest {reference} is not {expected}");
            }
        }
        foreach (Digest blob in image.Blobs.Distinct())
        {
            if (await GetDigestAsync(client, $"{baseUrl}/v2/{repository}/blobs/{blob}", cancellationToken) != blob)
            {
                problems.Add($"{repository}:{image.Tag}: blob {blob} is missing or wrong");
            }
        }
        return problems;
    }

    private static async Task<Digest?> GetDigestAsync(HttpClient client, string url, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciManifest));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciIndex));
        using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode) { return null; }
        await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return Digest.FromSha256(await SHA256.HashDataAsync(body, cancellationToken));
    }
}
