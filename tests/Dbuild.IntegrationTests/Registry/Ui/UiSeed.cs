using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dbuild.Oci;

namespace Dbuild.IntegrationTests.Registry.Ui;

/// <summary>Content for the UI tests that no client pushes as easily: a referrer through the API, and many repositories written as storage.</summary>
internal static class UiSeed
{
    public const string SbomType = "application/spdx+json";

    /// <summary>Pushes an SBOM-like artifact (empty config, one JSON layer) whose <c>subject</c> is <paramref name="subject"/>.</summary>
    public static async Task<Digest> PushReferrerAsync(HttpClient client, string baseUrl, string repository, Digest subject, long subjectSize,
        CancellationToken cancellationToken)
    {
        byte[] empty = "{}"u8.ToArray();
        byte[] sbom = Encoding.UTF8.GetBytes("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"busybox\"}");
        foreach (byte[] blob in new[] { empty, sbom }) { await PushBlobAsync(client, baseUrl, repository, blob, cancellationToken); }
        string manifest = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"artifactType\":\"{SbomType}\","
            + $"\"config\":{{\"mediaType\":\"{MediaTypes.OciEmpty}\",\"digest\":\"{Digest.Compute(empty)}\",\"size\":2}},"
            + $"\"layers\":[{{\"mediaType\":\"{SbomType}\",\"digest\":\"{Digest.Compute(sbom)}\",\"size\":{sbom.Length}}}],"
            + $"\"subject\":{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{subject}\",\"size\":{subjectSize}}},"
            + "\"annotations\":{\"org.opencontainers.image.created\":\"2026-01-02T03:04:05Z\",\"org.example.tool\":\"<sbom-tool>\"}}";
        byte[] bytes = Encoding.UTF8.GetBytes(manifest);
        Digest digest = Digest.Compute(bytes);
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using HttpResponseMessage response = await client.PutAsync($"{baseUrl}/v2/{repository}/manifests/{digest}", content, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return digest;
    }

    private static async Task PushBlobAsync(HttpClient client, string baseUrl, string repository, byte[] blob, CancellationToken cancellationToken)
    {
        using HttpResponseMessage start = await client.PostAsync($"{baseUrl}/v2/{repository}/blobs/uploads/", null, cancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        string location = start.Headers.Location!.IsAbsoluteUri ? start.Headers.Location.ToString() : baseUrl + start.Headers.Location;
        using var body = new ByteArrayContent(blob);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage put = await client.PutAsync($"{location}{(location.Contains('?', StringComparison.Ordinal) ? '&' : '?')}digest={Digest.Compute(blob)}", body, cancellationToken);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    /// <summary>
    /// Gives each of <paramref name="names"/> the tag <c>latest</c> on the manifest <paramref name="source"/> already has
    /// at <paramref name="tag"/>, by writing registry:2's links (the cheap way to have a thousand repositories).
    /// </summary>
    public static void LinkRepositories(string storageRoot, string source, string tag, IEnumerable<string> names)
    {
        string repositories = Path.Combine(storageRoot, "docker", "registry", "v2", "repositories");
        string current = File.ReadAllText(Path.Combine(repositories, source, "_manifests", "tags", tag, "current", "link")).Trim();
        string[] layers = [.. Directory.EnumerateDirectories(Path.Combine(repositories, source, "_layers", "sha256")).Select(Path.GetFileName)!];
        string hex = current["sha256:".Length..];
        foreach (string name in names)
        {
            string manifests = Path.Combine(repositories, name, "_manifests");
            Write(Path.Combine(manifests, "revisions", "sha256", hex, "link"), current);
            Write(Path.Combine(manifests, "tags", "latest", "current", "link"), current);
            Write(Path.Combine(manifests, "tags", "latest", "index", "sha256", hex, "link"), current);
            foreach (string layer in layers) { Write(Path.Combine(repositories, name, "_layers", "sha256", layer, "link"), "sha256:" + layer); }
        }
    }

    private static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }
}
