using System.Text.Json;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>The build cache: same inputs hit, each changed input misses with its reason, touch hits, concurrent builds agree.</summary>
public sealed class CacheTests
{
    private const string Dockerfile = """
        ARG BASE
        FROM ${BASE}
        ARG VERSION=1
        COPY src/ /app/src/
        RUN echo "$VERSION" > /app/version
        COPY static.txt /app/
        """;

    private static async Task<string> MakeContextAsync(TempDirectory temp, CancellationToken ct)
    {
        string context = temp.Combine("ctx");
        Directory.CreateDirectory(Path.Combine(context, "src"));
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), Dockerfile, ct);
        await File.WriteAllTextAsync(Path.Combine(context, "src", "app.cs"), "class App {}", ct);
        await File.WriteAllTextAsync(Path.Combine(context, "src", "lib.cs"), "class Lib {}", ct);
        await File.WriteAllTextAsync(Path.Combine(context, "static.txt"), "static", ct);
        return context;
    }

    private static async Task<List<(string Name, bool Cached, string? Reason)>> BuildAsync(BuildEnvironment env, TempDirectory temp, string context, CancellationToken ct,
        string root = "root", string baseImage = "", params string[] extra)
    {
        string meta = temp.Combine($"meta-{Guid.NewGuid():N}.json");
        ProcessResult result = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine(root), "--progress", "plain",
            "--build-arg", "BASE=" + (baseImage.Length > 0 ? baseImage : env.BaseImage), "--metadata-file", meta, .. extra, context], ct);
        result.EnsureSuccess();
        using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(meta, ct));
        return [.. json.RootElement.GetProperty("dbuild.steps").EnumerateArray().Select(s => (
            s.GetProperty("name").GetString()!,
            s.GetProperty("cached").GetBoolean(),
            s.GetProperty("reason").ValueKind == JsonValueKind.String ? s.GetProperty("reason").GetString() : null))];
    }

    [Fact]
    public async Task Rebuild_SameInputs_EveryStepCached()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-cache-");
        string context = await MakeContextAsync(temp, ct);

        await BuildAsync(env, temp, context, ct);
        var second = await BuildAsync(env, temp, context, ct);

        Assert.Equal(3, second.Count);
        Assert.All(second, s => Assert.True(s.Cached, s.Name));
    }

    [Fact]
    public async Task Rebuild_FileChanged_MissNamesTheFile()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-cache-");
        string context = await MakeContextAsync(temp, ct);
        await BuildAsync(env, temp, context, ct);

        await File.WriteAllTextAsync(Path.Combine(context, "src", "app.cs"), "class App { int x; }", ct);
        var steps = await BuildAsync(env, temp, context, ct);

        Assert.Equal("src/app.cs changed", steps[0].Reason);
        Assert.Equal("previous step changed", steps[1].Reason);
    }

    [Fact]
    public async Task Rebuild_BuildArgChanged_MissNamesTheArg()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-cache-");
        string context = await MakeContextAsync(temp, ct);
        await BuildAsync(env, temp, context, ct);

        var steps = await BuildAsync(env, temp, context, ct, extra: ["--build-arg", "VERSION=2"]);

        Assert.True(steps[0].Cached);
        Assert.Equal("build-arg VERSION changed", steps[1].Reason);
    }

    [Fact]
    public async Task Rebuild_TouchOnly_StaysCached()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-cache-");
        string context = await MakeContextAsync(temp, ct);
        await BuildAsync(env, temp, context, ct);

        File.SetLastWriteTimeUtc(Path.Combine(context, "src", "app.cs"), DateTime.UtcNow.AddMinutes(5));
        var steps = await BuildAsync(env, temp, context, ct);

        Assert.All(steps, s => Assert.True(s.Cached, s.Name));
    }

    [Fact]
    public async Task Rebuild_FileAddedAndRemoved_MissSaysSo()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-cache-");
        string context = await MakeContextAsync(temp, ct);
        await BuildAsync(env, temp, context, ct);

        File.Delete(Path.Combine(context, "src", "lib.cs"));
        await File.WriteAllTextAsync(Path.Combine(context, "src", "new.cs"), "class New {}", ct);
        var steps = await BuildAsync(env, temp, context, ct);

        Assert.Equal("src/new.cs added, src/lib.cs removed", steps[0].Reason);
    }

    [Fact]
    public async Task Rebuild_BaseImageChanged_MissSaysBaseDigest()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-cache-");
        string context = await MakeContextAsync(temp, ct);
        string movingBase = $"{env.RegistryHost}/cache/base:{Guid.NewGuid():N}";
        string baseContext = temp.Combine("base");
        Directory.CreateDirectory(baseContext);
        await File.WriteAllTextAsync(Path.Combine(baseContext, "Dockerfile"), "ARG BASE\nFROM ${BASE}\nLABEL generation=1\n", ct);
        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("baseroot"), "--build-arg", "BASE=" + env.BaseImage, "-t", movingBase, "--push", baseContext], ct)).EnsureSuccess();
        await BuildAsync(env, temp, context, ct, baseImage: movingBase);

        await File.WriteAllTextAsync(Path.Combine(baseContext, "Dockerfile"), "ARG BASE\nFROM ${BASE}\nLABEL generation=2\n", ct);
        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("baseroot"), "--build-arg", "BASE=" + env.BaseImage, "-t", movingBase, "--push", baseContext], ct)).EnsureSuccess();
        var steps = await BuildAsync(env, temp, context, ct, baseImage: movingBase, extra: ["--pull"]);

        Assert.Equal("base image digest changed", steps[0].Reason);
    }

    [Fact]
    public async Task ConcurrentBuilds_OneRoot_BothSucceedAndCacheAgrees()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-cache-");
        string context = await MakeContextAsync(temp, ct);

        var builds = await Task.WhenAll(
            BuildAsync(env, temp, context, ct),
            BuildAsync(env, temp, context, ct, extra: ["--build-arg", "VERSION=2"]),
            BuildAsync(env, temp, BuildEnvironment.Context("copy-basic"), ct));
        var again = await BuildAsync(env, temp, context, ct);

        Assert.All(builds, b => Assert.NotEmpty(b));
        Assert.All(again, s => Assert.True(s.Cached, s.Name));
    }
}
