using Dbuild.Testing;
using static Dbuild.IntegrationTests.Build.RegistryCacheTests;

namespace Dbuild.IntegrationTests.ForeignBases;

/// <summary>
/// The CI cache on bases other tools wrote (umoci without tar end blocks, skopeo's zstd and uncompressed re-encodings,
/// docker's legacy builder with an overlay2 whiteout, podman/buildah, a truncated tar), served by registry:2 as their
/// producers pushed them: runner A exports mode=max, one file changes, runner B on an empty root takes the steps before
/// the change from the cache and pushes the image a fresh build pushes.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ForeignBaseCacheTests(ForeignBaseEnvironment environment) : IClassFixture<ForeignBaseEnvironment>
{
    private const string Dockerfile = """
        ARG BASE
        FROM ${BASE} AS build
        USER 0
        COPY lib/ /srv/lib/
        RUN cat /srv/lib/* > /srv/lib.all && rm -f /srv/work/victim.txt
        COPY src/ /srv/src/
        RUN cat /srv/src/* > /srv/src.all

        FROM ${BASE}
        COPY --from=build /srv/lib.all /srv/src.all /out/
        """;

    public static TheoryData<string> Bases => new("umoci-insert", "skopeo-oci-zstd", "skopeo-v2s2-tar", "docker-legacy-run", "podman-docker", "hand-truncated");

    [Theory]
    [MemberData(nameof(Bases))]
    public async Task RunnerB_OnAForeignBase_ReusesTheCache_PushesTheFreshImage(string baseName)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await environment.EnsureStartedAsync(ct);
        using var temp = new TempDirectory("dbuild-foreign-cache-");
        string host = environment.RegistryHost;
        string reference = environment.Reference(baseName);
        string context = temp.Combine("ctx");
        foreach (string dir in new[] { "lib", "src" })
        {
            Directory.CreateDirectory(Path.Combine(context, dir));
            for (int i = 1; i <= 2; i++) { await File.WriteAllTextAsync(Path.Combine(context, dir, $"{dir}{i}.txt"), $"{dir} {i}\n", ct); }
        }
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), Dockerfile, ct);
        string cache = $"{host}/cache/{baseName}:cache";
        var env = new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000", ["DBUILD_INSECURE_REGISTRIES"] = host };

        (await BuildAsync(temp.Combine("a"), context, reference, $"{host}/cache/{baseName}:a", env, ct, "--cache-to", $"type=registry,ref={cache},mode=max")).EnsureSuccess();
        await File.WriteAllTextAsync(Path.Combine(context, "src", "src1.txt"), "changed\n", ct);
        (await BuildAsync(temp.Combine("b"), context, reference, $"{host}/cache/{baseName}:b", env, ct, "--cache-from", $"type=registry,ref={cache}",
            "--metadata-file", temp.Combine("b.json"))).EnsureSuccess();
        (await BuildAsync(temp.Combine("fresh"), context, reference, $"{host}/cache/{baseName}:fresh", env, ct, "--metadata-file", temp.Combine("fresh.json"))).EnsureSuccess();

        List<(string Name, bool Cached, string? Reason)> steps = Steps(temp.Combine("b.json"));
        Assert.All(steps.Where(s => s.Name.Contains("/srv/lib", StringComparison.Ordinal) && s.Name.StartsWith("[build", StringComparison.Ordinal)),
            s => Assert.True(s.Cached, $"{baseName}: {s.Name} was not cached: {s.Reason}"));
        Assert.Equal($"not in {cache} (src/src1.txt changed)", Assert.Single(steps, s => s.Name.StartsWith("[build ", StringComparison.Ordinal) && s.Name.Contains("] COPY src/", StringComparison.Ordinal)).Reason);
        Assert.Equal(Digest(temp.Combine("fresh.json")), Digest(temp.Combine("b.json")));
    }
}
