using System.Text.Json;
using System.Text.RegularExpressions;
using Dbuild.IntegrationTests.Registry;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// The CI shape of <c>--cache-to</c>/<c>--cache-from</c>: two runners with separate empty state roots share a cache
/// through a real registry (registry:2, and dbuild's own). Runner B, after one source file changed, takes every step
/// before the change from the cache, pushes the same image a fresh build pushes, and downloads from the cache's
/// repository only what it must read (counted on the registry's own access log).
/// </summary>
public sealed partial class RegistryCacheTests
{
    internal const string Dockerfile = """
        ARG BASE
        FROM ${BASE} AS deps
        COPY deps/ /deps/
        RUN cat /deps/* > /deps.all

        FROM ${BASE} AS build
        COPY src/ /src/
        RUN cat /src/* > /build.all

        FROM ${BASE} AS assets
        COPY assets/ /assets/

        FROM ${BASE}
        COPY --from=build /build.all /app/build.all
        COPY --link --from=deps /deps.all /app/deps.all
        COPY --link --from=assets /assets /app/assets
        """;

    [Theory]
    [InlineData("registry2")]
    [InlineData("dbuild")]
    public async Task RunnerB_AfterOneFileChange_ReusesTheCache_PushesTheFreshImage_DownloadsOnlyWhatItReads(string kind)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-cicache-");
        await using RegistryServer registry = kind == "dbuild"
            ? await RegistryServer.StartDbuildAsync(temp.Path, temp.Combine("registry"), ct)
            : await RegistryServer.StartRegistry2Async(temp.Path, temp.Combine("registry"), ct);
        string baseImage = await PushBaseAsync(registry.Host, ct);
        string context = WriteContext(temp.Combine("ctx"));
        string cache = $"{registry.Host}/ci/app:buildcache";
        var epoch = new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000", ["DBUILD_INSECURE_REGISTRIES"] = registry.Host };

        (await BuildAsync(temp.Combine("runner-a"), context, baseImage, $"{registry.Host}/ci/app:a", epoch, ct,
            "--cache-to", $"type=registry,ref={cache},mode=max")).EnsureSuccess();
        await File.WriteAllTextAsync(Path.Combine(context, "src", "s1.txt"), "changed\n", ct);
        int logStart = registry.Output.Length;

        ProcessResult b = (await BuildAsync(temp.Combine("runner-b"), context, baseImage, $"{registry.Host}/ci/app:b", epoch, ct,
            "--cache-from", $"type=registry,ref={cache}", "--metadata-file", temp.Combine("b.json"))).EnsureSuccess();
        string bLog = registry.Output[logStart..];
        (await BuildAsync(temp.Combine("fresh"), context, baseImage, $"{registry.Host}/ci/app:fresh", epoch, ct,
            "--metadata-file", temp.Combine("fresh.json"))).EnsureSuccess();

        List<(string Name, bool Cached, string? Reason)> steps = Steps(temp.Combine("b.json"));
        Assert.All(steps.Where(s => s.Name.Contains("deps", StringComparison.Ordinal) || s.Name.Contains("assets", StringComparison.Ordinal)),
            s => Assert.True(s.Cached, $"{s.Name} was not cached: {s.Reason}"));
        (string _, bool copyCached, string? copyReason) = Assert.Single(steps, s => s.Name.StartsWith("[build 2/3] COPY src/", StringComparison.Ordinal));
        Assert.False(copyCached);
        Assert.Equal($"not in {cache} (src/s1.txt changed)", copyReason);
        Assert.Contains($"cache miss: not in {cache} (src/s1.txt changed)", b.StandardError + b.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(Digest(temp.Combine("fresh.json")), Digest(temp.Combine("b.json")));

        // From the cache's repository B reads the cache index and nothing else: every layer it did not have to read
        // (the deps and assets stages, the two --link layers of the image) stayed in the registry and was mounted.
        string[] blobGets = [.. BlobGets(bLog, "ci/app")];
        using JsonDocument cacheManifest = JsonDocument.Parse((await SkopeoAsync(["inspect", "--raw", "--tls-verify=false", $"docker://{cache}"], ct)).StandardOutput);
        string configDigest = cacheManifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
        Assert.Equal([configDigest], blobGets);
        Assert.Equal("application/vnd.dbuild.cache.v1+json", cacheManifest.RootElement.GetProperty("artifactType").GetString());
        // The pushed image is whole in its repository: a client that did not build it copies every blob.
        (await SkopeoAsync(["copy", "--src-tls-verify=false", $"docker://{registry.Host}/ci/app:b", "oci:" + temp.Combine("pulled") + ":b"], ct)).EnsureSuccess();
    }

    internal static async Task<string> PushBaseAsync(string host, CancellationToken ct)
    {
        string layout = Prerequisites.RequireBusyboxLayout();
        string image = $"{host}/base/busybox:1";
        (await SkopeoAsync(["copy", "--dest-tls-verify=false", $"oci:{layout}:latest", $"docker://{image}"], ct)).EnsureSuccess();
        return image;
    }

    internal static string WriteContext(string dir)
    {
        foreach ((string sub, int count) in new[] { ("deps", 3), ("src", 3), ("assets", 2) })
        {
            Directory.CreateDirectory(Path.Combine(dir, sub));
            for (int i = 1; i <= count; i++) { File.WriteAllText(Path.Combine(dir, sub, $"{sub[0]}{i}.txt"), $"{sub} {i}\n"); }
        }
        File.WriteAllText(Path.Combine(dir, "Dockerfile"), Dockerfile);
        return dir;
    }

    internal static Task<ProcessResult> BuildAsync(string root, string context, string baseImage, string tag, IReadOnlyDictionary<string, string?> environment,
        CancellationToken ct, params string[] extra) =>
        BuildEnvironment.DbuildAsync(["build", "--root", root, "--progress", "plain", "--build-arg", "BASE=" + baseImage, "-t", tag, "--push", .. extra, context],
            ct, environment);

    internal static Task<ProcessResult> SkopeoAsync(string[] arguments, CancellationToken ct) =>
        ProcessRunner.RunAsync(Prerequisites.RequireTool("skopeo", "skopeo"), arguments, ct, timeout: TimeSpan.FromMinutes(2));

    internal static List<(string Name, bool Cached, string? Reason)> Steps(string metadataFile)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metadataFile));
        return [.. json.RootElement.GetProperty("dbuild.steps").EnumerateArray().Select(s => (
            s.GetProperty("name").GetString()!, s.GetProperty("cached").GetBoolean(),
            s.GetProperty("reason").ValueKind == JsonValueKind.String ? s.GetProperty("reason").GetString() : null))];
    }

    internal static string Digest(string metadataFile)
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(metadataFile));
        return json.RootElement.GetProperty("containerimage.digest").GetString()!;
    }

    /// <summary>The digests of blob GETs in <paramref name="repository"/> in either registry's access log.</summary>
    internal static IEnumerable<string> BlobGets(string log, string repository) =>
        BlobGet().Matches(log).Where(m => m.Groups["repo"].Value == repository).Select(m => m.Groups["digest"].Value).Distinct();

    // registry:2: "GET /v2/ci/app/blobs/sha256:… HTTP/1.1" 200; dbuild: GET /v2/ci/app/blobs/sha256:… 200 in=…
    [GeneratedRegex("\"?GET /v2/(?<repo>[^ ]+)/blobs/(?<digest>sha256:[0-9a-f]{64})[\" ]")]
    private static partial Regex BlobGet();
}
