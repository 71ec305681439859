using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dbuild.Oci;

namespace Dbuild.IntegrationTests.Registry.TokenAuth;

/// <summary>Who asks: a user with a password, anonymous, or a token made wrong on purpose.</summary>
internal enum TokenFlaw { None, WrongPassword, Expired, OtherService }

/// <summary>One row of the matrix: a label, the credentials, and what is wrong with the token.</summary>
internal sealed record Principal(string Label, string? User, string? Password, TokenFlaw Flaw = TokenFlaw.None);

/// <summary>What one request got: status, error code and detail, and the Bearer challenge's parts.</summary>
internal sealed record Observation(int Status, string? Code, string Detail, string? Error, string Scope, string? Realm, string? Service)
{
    public override string ToString() => $"{Status} {Code} detail={Detail} error={Error} scope=[{Scope}] realm={Realm} service={Service}";
}

/// <summary>One endpoint of the matrix and the action registry:2 needs for it (<c>none</c> for <c>/v2/</c>).</summary>
internal sealed record MatrixEndpoint(string Label, HttpMethod Method, Func<AuthMatrix, string> Path, string Action, int AllowedStatus, bool Registry2Has = true)
{
    public Func<AuthMatrix, byte[]?> Body { get; init; } = _ => null;

    public string? ContentType { get; init; }
}

/// <summary>
/// The auth matrix against one registry (dbuild or registry:2): seeds <c>alice/app</c> (a tagged manifest, its blobs, two
/// upload sessions) with a token that may do everything, then sends every endpoint as every principal the way clients do
/// (probe, read the challenge's scope, fetch a token for it, retry) and records what came back. Refused answers are
/// checked for leaks: no tag, manifest, blob bytes, digest header or session location.
/// </summary>
internal sealed class AuthMatrix(string baseUrl, Func<Principal, IReadOnlyList<string>, Task<string?>> fetchToken) : IDisposable
{
    public const string Repository = "alice/app";
    public const string Tag = "secret-tag-4711";
    public static readonly Principal Root = new("the right user", "root", "root-pw");
    private static readonly byte[] LayerBytes = Encoding.UTF8.GetBytes("layer bytes no refused answer may show 1c9e");
    private static readonly byte[] ChunkBytes = Encoding.UTF8.GetBytes("a chunk of an upload");

    private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false });

    public void Dispose() => _http.Dispose();

    public byte[] Manifest { get; private set; } = [];
    public Digest ManifestDigest { get; private set; }
    public Digest LayerDigest { get; } = Digest.Compute(LayerBytes);
    public string UploadA { get; private set; } = "";
    public string UploadB { get; private set; } = "";

    /// <summary>Every endpoint; the order is the one the allowed requests must run in (deletes last).</summary>
    public static IReadOnlyList<MatrixEndpoint> Endpoints { get; } =
    [
        new("base", HttpMethod.Get, _ => "/v2/", "none", 200),
        new("catalog", HttpMethod.Get, _ => "/v2/_catalog", "catalog", 200),
        new("tags", HttpMethod.Get, _ => $"/v2/{Repository}/tags/list", "pull", 200),
        new("manifest GET", HttpMethod.Get, _ => $"/v2/{Repository}/manifests/{Tag}", "pull", 200),
        new("manifest HEAD", HttpMethod.Head, _ => $"/v2/{Repository}/manifests/{Tag}", "pull", 200),
        new("blob GET", HttpMethod.Get, m => $"/v2/{Repository}/blobs/{m.LayerDigest}", "pull", 200),
        new("blob HEAD", HttpMethod.Head, m => $"/v2/{Repository}/blobs/{m.LayerDigest}", "pull", 200),
        new("referrers", HttpMethod.Get, m => $"/v2/{Repository}/referrers/{m.ManifestDigest}", "pull", 200, Registry2Has: false),
        new("upload POST", HttpMethod.Post, _ => $"/v2/{Repository}/blobs/uploads/", "push", 202),
        new("upload GET", HttpMethod.Get, m => m.UploadA, "pull", 204),
        new("upload PATCH", HttpMethod.Patch, m => m.UploadA, "push", 202) { Body = _ => ChunkBytes, ContentType = "application/octet-stream" },
        new("upload PUT", HttpMethod.Put, m => m.UploadA + (m.UploadA.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "digest=" + Digest.Compute(ChunkBytes), "push", 201),
        new("upload DELETE", HttpMethod.Delete, m => m.UploadB, "delete", 204),
        new("manifest PUT", HttpMethod.Put, _ => $"/v2/{Repository}/manifests/copy", "push", 201) { Body = m => m.Manifest, ContentType = MediaTypes.OciManifest },
        new("manifest DELETE", HttpMethod.Delete, m => $"/v2/{Repository}/manifests/{m.ManifestDigest}", "delete", 202),
        new("blob DELETE", HttpMethod.Delete, m => $"/v2/{Repository}/blobs/{m.LayerDigest}", "delete", 202),
    ];

    /// <summary>Pushes the content every endpoint addresses, as <see cref="Root"/>.</summary>
    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        byte[] config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
        await PushBlobAsync(Repository, config, cancellationToken);
        await PushBlobAsync(Repository, LayerBytes, cancellationToken);
        Manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{Digest.Compute(config)}\",\"size\":{config.Length}}}," +
            $"\"layers\":[{{\"mediaType\":\"{MediaTypes.OciLayerGzip}\",\"digest\":\"{LayerDigest}\",\"size\":{LayerBytes.Length}}}]}}");
        ManifestDigest = Digest.Compute(Manifest);
        await SendOkAsync(HttpMethod.Put, $"/v2/{Repository}/manifests/{Tag}", Manifest, MediaTypes.OciManifest, cancellationToken);
        UploadA = (await SendOkAsync(HttpMethod.Post, $"/v2/{Repository}/blobs/uploads/", null, null, cancellationToken)).Location!;
        UploadB = (await SendOkAsync(HttpMethod.Post, $"/v2/{Repository}/blobs/uploads/", null, null, cancellationToken)).Location!;
    }

    /// <summary>Pushes a blob to <paramref name="repository"/> as <see cref="Root"/> (POST, then PUT with the content: registry:2 has no one-request upload).</summary>
    public async Task PushBlobAsync(string repository, byte[] content, CancellationToken cancellationToken, Principal? who = null)
    {
        string session = (await SendOkAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/", null, null, cancellationToken, who)).Location!;
        string separator = session.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        await SendOkAsync(HttpMethod.Put, $"{session}{separator}digest={Digest.Compute(content)}", content, "application/octet-stream", cancellationToken, who);
    }

    /// <summary>Sends <paramref name="endpoint"/> as <paramref name="principal"/> the way a client does, and checks a refusal leaks nothing.</summary>
    public async Task<Observation> RunAsync(MatrixEndpoint endpoint, Principal principal, CancellationToken cancellationToken)
    {
        (Observation probe, _) = await SendAsync(endpoint.Method, endpoint.Path(this), endpoint.Body(this), endpoint.ContentType, null, cancellationToken);
        string? token = await fetchToken(principal, probe.Scope.Length == 0 ? [] : probe.Scope.Split(' '));
        (Observation result, string? location) = await SendAsync(endpoint.Method, endpoint.Path(this), endpoint.Body(this), endpoint.ContentType, token, cancellationToken);
        if (endpoint.Label == "upload PATCH" && result.Status == 202) { UploadA = location!; }
        return result;
    }

    /// <summary>Sends one request with an optional bearer token; refused answers are checked for leaks here.</summary>
    public async Task<(Observation Result, string? Location)> SendAsync(HttpMethod method, string path, byte[]? body, string? contentType, string? token,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.StartsWith("http", StringComparison.Ordinal) ? path : baseUrl + path);
        if (token is not null) { request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token); }
        request.Headers.Accept.ParseAdd(MediaTypes.OciManifest);
        if (body is not null || method == HttpMethod.Put || method == HttpMethod.Patch || method == HttpMethod.Post)
        {
            request.Content = new ByteArrayContent(body ?? []);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? "application/octet-stream");
        }
        using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken);
        string text = await response.Content.ReadAsStringAsync(cancellationToken);
        string? location = response.Headers.Location?.ToString();
        if (location is not null && !location.StartsWith("http", StringComparison.Ordinal)) { location = baseUrl + location; }
        var challenge = ParseChallenge(response.Headers.WwwAuthenticate.ToString());
        (string? code, string detail) = ParseError(text);
        var observation = new Observation((int)response.StatusCode, code, detail, challenge.GetValueOrDefault("error"),
            string.Join(' ', (challenge.GetValueOrDefault("scope") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(s => { int c = s.LastIndexOf(':'); return s[..(c + 1)] + string.Join(',', s[(c + 1)..].Split(',').Order(StringComparer.Ordinal)); })
                .Order(StringComparer.Ordinal)),
            challenge.GetValueOrDefault("realm"), challenge.GetValueOrDefault("service"));
        if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
        {
            string where = $"{method} {path} refused: {observation}";
            Assert.DoesNotContain(Tag, text, StringComparison.Ordinal);
            Assert.DoesNotContain("schemaVersion", text, StringComparison.Ordinal);
            Assert.DoesNotContain(Encoding.UTF8.GetString(LayerBytes), text, StringComparison.Ordinal);
            Assert.False(response.Headers.Contains("Docker-Content-Digest"), where);
            Assert.Null(location);
            Assert.False(response.Headers.Contains("Docker-Upload-UUID"), where);
        }
        return (observation, location);
    }

    private async Task<(Observation Result, string? Location)> SendOkAsync(HttpMethod method, string path, byte[]? body, string? contentType,
        CancellationToken cancellationToken, Principal? who = null)
    {
        (Observation probe, _) = await SendAsync(method, path, body, contentType, null, cancellationToken);
        string? token = await fetchToken(who ?? Root, probe.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        (Observation result, string? location) = await SendAsync(method, path, body, contentType, token, cancellationToken);
        Assert.True(result.Status is >= 200 and < 300, $"seeding {method} {path}: {result}");
        return (result, location);
    }

    private static Dictionary<string, string> ParseChallenge(string header) =>
        Regex.Matches(header, "(\\w+)=\"([^\"]*)\"").GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => g.First().Groups[2].Value);

    /// <summary>The first error's code and its detail, normalised (registry:2 lists access items in map order).</summary>
    private static (string? Code, string Detail) ParseError(string text)
    {
        if (!text.TrimStart().StartsWith('{')) { return (null, ""); }
        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            if (!document.RootElement.TryGetProperty("errors", out JsonElement errors) || errors.GetArrayLength() == 0) { return (null, ""); }
            JsonElement first = errors[0];
            string? code = first.GetProperty("code").GetString();
            string detail = first.TryGetProperty("detail", out JsonElement d) && d.ValueKind == JsonValueKind.Array
                ? string.Join(' ', d.EnumerateArray().Select(item => item.GetRawText()).Order(StringComparer.Ordinal))
                : "";
            return (code, detail);
        }
        catch (JsonException) { return (null, ""); }
    }
}
