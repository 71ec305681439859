using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dbuild.IntegrationTests.Registry;
using Dbuild.Testing;
using static Dbuild.IntegrationTests.Build.RegistryCacheTests;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// <c>--cache-to</c>/<c>--cache-from</c> beyond the CI path: mode=min vs max, type=local, type=inline, several
/// <c>--cache-from</c> with a missing one, and a corrupt cache manifest — each against registry:2, each runner B on an
/// empty state root with the context unchanged.
/// </summary>
public sealed class CacheModesTests
{
    private static bool IsFinalStage(string name) => name.StartsWith("[stage-3 ", StringComparison.Ordinal);

    [Fact]
    public async Task ModeMin_CachesTheImagesSteps_ModeMax_EveryStage()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Setup s = await Setup.StartAsync(ct);
        (await BuildAsync(s.Temp.Combine("a"), s.Context, s.Base, $"{s.Host}/m/app:a", s.Env, ct,
            "--cache-to", $"type=registry,ref={s.Host}/m/app:min", "--cache-to", $"type=registry,ref={s.Host}/m/app:max,mode=max")).EnsureSuccess();

        (await BuildAsync(s.Temp.Combine("b-min"), s.Context, s.Base, $"{s.Host}/m/app:bmin", s.Env, ct,
            "--cache-from", $"type=registry,ref={s.Host}/m/app:min", "--metadata-file", s.Temp.Combine("min.json"))).EnsureSuccess();
        (await BuildAsync(s.Temp.Combine("b-max"), s.Context, s.Base, $"{s.Host}/m/app:bmax", s.Env, ct,
            "--cache-from", $"type=registry,ref={s.Host}/m/app:max", "--metadata-file", s.Temp.Combine("max.json"))).EnsureSuccess();

        List<(string Name, bool Cached, string? Reason)> min = Steps(s.Temp.Combine("min.json"));
        Assert.All(min.Where(x => IsFinalStage(x.Name)), x => Assert.True(x.Cached, $"{x.Name}: {x.Reason}"));
        Assert.All(min.Where(x => !IsFinalStage(x.Name)), x => Assert.StartsWith($"not in {s.Host}/m/app:min (", x.Reason ?? "cached", StringComparison.Ordinal));
        Assert.All(Steps(s.Temp.Combine("max.json")), x => Assert.True(x.Cached, $"{x.Name}: {x.Reason}"));
        Assert.Equal(Digest(s.Temp.Combine("min.json")), Digest(s.Temp.Combine("max.json")));
    }

    [Fact]
    public async Task TypeLocal_ExportsAnOciLayout_ImportedByAnotherRoot()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Setup s = await Setup.StartAsync(ct);
        string dir = s.Temp.Combine("cache-dir");
        (await BuildAsync(s.Temp.Combine("a"), s.Context, s.Base, $"{s.Host}/l/app:a", s.Env, ct, "--cache-to", $"type=local,dest={dir},mode=max",
            "--metadata-file", s.Temp.Combine("a.json"))).EnsureSuccess();
        (await BuildAsync(s.Temp.Combine("b"), s.Context, s.Base, $"{s.Host}/l/app:b", s.Env, ct, "--cache-from", $"type=local,src={dir}",
            "--metadata-file", s.Temp.Combine("b.json"))).EnsureSuccess();

        Assert.All(Steps(s.Temp.Combine("b.json")), x => Assert.True(x.Cached, $"{x.Name}: {x.Reason}"));
        Assert.Equal(Digest(s.Temp.Combine("a.json")), Digest(s.Temp.Combine("b.json")));
        using JsonDocument index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "index.json"), ct));
        JsonElement entry = Assert.Single(index.RootElement.GetProperty("manifests").EnumerateArray());
        string manifestPath = Path.Combine(dir, "blobs", "sha256", entry.GetProperty("digest").GetString()!["sha256:".Length..]);
        using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllTextAsync(manifestPath, ct));
        Assert.Equal("application/vnd.dbuild.cache.v1+json", manifest.RootElement.GetProperty("artifactType").GetString());
        foreach (JsonElement layer in manifest.RootElement.GetProperty("layers").EnumerateArray())
        {
            string digest = layer.GetProperty("digest").GetString()!;
            byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(dir, "blobs", "sha256", digest["sha256:".Length..]), ct);
            Assert.Equal(digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }

    [Fact]
    public async Task LocalImport_ReExportedToARegistry_CarriesTheLayersOnlyTheDirectoryHad()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Setup s = await Setup.StartAsync(ct);
        string dir = s.Temp.Combine("cache-dir");
        string cache = $"{s.Host}/r/app:cache";
        (await BuildAsync(s.Temp.Combine("a"), s.Context, s.Base, $"{s.Host}/r/app:a", s.Env, ct, "--cache-to", $"type=local,dest={dir},mode=max")).EnsureSuccess();
        // B takes every step from the directory and exports them to the registry: the layers no image holds come from the directory.
        (await BuildAsync(s.Temp.Combine("b"), s.Context, s.Base, $"{s.Host}/r/app:b", s.Env, ct, "--cache-from", $"type=local,src={dir}",
            "--cache-to", $"type=registry,ref={cache},mode=max")).EnsureSuccess();
        (await BuildAsync(s.Temp.Combine("c"), s.Context, s.Base, $"{s.Host}/r/app:c", s.Env, ct, "--cache-from", $"type=registry,ref={cache}",
            "--metadata-file", s.Temp.Combine("c.json"))).EnsureSuccess();

        Assert.All(Steps(s.Temp.Combine("c.json")), x => Assert.True(x.Cached, $"{x.Name}: {x.Reason}"));
    }

    [Fact]
    public async Task TypeInline_ThePushedImageCarriesTheCache_APlainReferenceImportsIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Setup s = await Setup.StartAsync(ct);
        string image = $"{s.Host}/i/app:a";
        (await BuildAsync(s.Temp.Combine("a"), s.Context, s.Base, image, s.Env, ct, "--cache-to", "type=inline")).EnsureSuccess();
        (await BuildAsync(s.Temp.Combine("b"), s.Context, s.Base, $"{s.Host}/i/app:b", s.Env, ct, "--cache-from", image,
            "--metadata-file", s.Temp.Combine("b.json"))).EnsureSuccess();

        List<(string Name, bool Cached, string? Reason)> steps = Steps(s.Temp.Combine("b.json"));
        Assert.All(steps.Where(x => IsFinalStage(x.Name)), x => Assert.True(x.Cached, $"{x.Name}: {x.Reason}"));
        using JsonDocument config = JsonDocument.Parse((await SkopeoAsync(["inspect", "--config", "--raw", "--tls-verify=false", $"docker://{image}"], ct)).StandardOutput);
        Assert.True(config.RootElement.GetProperty("dev.dbuild.cache.v1").GetProperty("records").GetArrayLength() > 0);
    }

    [Fact]
    public async Task SeveralCacheFrom_AMissingOneWarns_TheNextOneHits()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Setup s = await Setup.StartAsync(ct);
        (await BuildAsync(s.Temp.Combine("a"), s.Context, s.Base, $"{s.Host}/s/app:a", s.Env, ct, "--cache-to", $"type=registry,ref={s.Host}/s/app:cache,mode=max")).EnsureSuccess();
        ProcessResult b = (await BuildAsync(s.Temp.Combine("b"), s.Context, s.Base, $"{s.Host}/s/app:b", s.Env, ct,
            "--cache-from", $"type=registry,ref={s.Host}/s/none:cache", "--cache-from", $"{s.Host}/s/app:cache", "--metadata-file", s.Temp.Combine("b.json"))).EnsureSuccess();

        Assert.Contains($"WARNING: cache {s.Host}/s/none:cache not found, building without it", b.StandardOutput + b.StandardError, StringComparison.Ordinal);
        Assert.All(Steps(s.Temp.Combine("b.json")), x => Assert.True(x.Cached, $"{x.Name}: {x.Reason}"));
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("""{"schemaVersion":1,"records":[{"key":"sha256:nothex","layer":null,"step":null}],"steps":[]}""")]
    [InlineData("""{"schemaVersion":7,"records":[],"steps":[]}""")]
    public async Task CorruptCacheManifest_IsIgnoredWithAWarning_TheImageIsTheFreshOne(string index)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Setup s = await Setup.StartAsync(ct);
        string cache = $"{s.Host}/c/app:cache";
        await PushArtifactAsync(s.Host, "c/app", "cache", Encoding.UTF8.GetBytes(index), ct);
        ProcessResult b = (await BuildAsync(s.Temp.Combine("b"), s.Context, s.Base, $"{s.Host}/c/app:b", s.Env, ct,
            "--cache-from", $"type=registry,ref={cache}", "--metadata-file", s.Temp.Combine("b.json"))).EnsureSuccess();
        (await BuildAsync(s.Temp.Combine("fresh"), s.Context, s.Base, $"{s.Host}/c/app:fresh", s.Env, ct, "--metadata-file", s.Temp.Combine("fresh.json"))).EnsureSuccess();

        Assert.Contains($"WARNING: cache {cache} is corrupt (", b.StandardOutput + b.StandardError, StringComparison.Ordinal);
        Assert.All(Steps(s.Temp.Combine("b.json")), x => Assert.False(x.Cached, x.Name));
        Assert.Equal(Digest(s.Temp.Combine("fresh.json")), Digest(s.Temp.Combine("b.json")));
    }

    /// <summary>Pushes a cache-typed manifest whose config is <paramref name="config"/> (and no layers) with plain HTTP, as any client could.</summary>
    private static async Task PushArtifactAsync(string host, string repository, string tag, byte[] config, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{host}") };
        string digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(config));
        using HttpResponseMessage start = await http.PostAsync($"/v2/{repository}/blobs/uploads/", null, ct);
        Uri location = start.Headers.Location!;
        string put = (location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString) + (location.OriginalString.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "digest=" + digest;
        using var content = new ByteArrayContent(config);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        (await http.PutAsync(put, content, ct)).EnsureSuccessStatusCode();
        string manifest = $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dbuild.cache.v1+json","config":{"mediaType":"application/vnd.dbuild.cache.config.v1+json","digest":"{{digest}}","size":{{config.Length}}},"layers":[]}""";
        using var body = new StringContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        (await http.PutAsync($"/v2/{repository}/manifests/{tag}", body, ct)).EnsureSuccessStatusCode();
    }

    /// <summary>A registry:2 with the base pushed, the test context, and the environment every build runs with.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private Setup(TempDirectory temp, RegistryServer registry, string baseImage, string context) => (Temp, Registry, Base, Context) = (temp, registry, baseImage, context);

        public TempDirectory Temp { get; }
        public RegistryServer Registry { get; }
        public string Base { get; }
        public string Context { get; }
        public string Host => Registry.Host;
        public Dictionary<string, string?> Env => new() { ["SOURCE_DATE_EPOCH"] = "1700000000", ["DBUILD_INSECURE_REGISTRIES"] = Host };

        public static async Task<Setup> StartAsync(CancellationToken ct)
        {
            var temp = new TempDirectory("dbuild-cachemodes-");
            RegistryServer registry = await RegistryServer.StartRegistry2Async(temp.Path, temp.Combine("registry"), ct);
            return new Setup(temp, registry, await PushBaseAsync(registry.Host, ct), WriteContext(temp.Combine("ctx")));
        }

        public async ValueTask DisposeAsync()
        {
            await Registry.DisposeAsync();
            Temp.Dispose();
        }
    }
}
