using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary><c>dbuild prune</c>: tagged images and (without --all) cached step layers survive; --all drops the build cache.</summary>
public sealed class PruneTests
{
    private const string Dockerfile = "FROM scratch AS build\nCOPY src/ /src/\nFROM scratch\nCOPY --from=build /src/a.txt /app/\n";

    private static async Task<BuildResult> BuildAsync(TempDirectory temp, string? tag, CancellationToken ct)
    {
        var builder = new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root") });
        return await builder.BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = Dockerfile,
            Tags = tag is null ? [] : [Reference.Parse(tag)],
            Platform = Platform.LinuxAmd64,
        }, cancellationToken: ct);
    }

    private static TempDirectory MakeContext()
    {
        var temp = new TempDirectory("dbuild-prune-");
        Directory.CreateDirectory(temp.Combine("ctx", "src"));
        File.WriteAllText(temp.Combine("ctx", "src", "a.txt"), "a");
        File.WriteAllText(temp.Combine("ctx", "src", "b.txt"), string.Concat(Enumerable.Repeat("b", 10_000)));
        return temp;
    }

    [Fact]
    public async Task Prune_KeepsTaggedImagesAndCachedLayers_ThenAllDropsTheCache()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using TempDirectory temp = MakeContext();
        BuildResult tagged = await BuildAsync(temp, "example/app:1", ct);
        var images = new LocalImages(temp.Combine("root"));
        var store = ContentStore.ForStateRoot(temp.Combine("root"));

        await images.PruneAsync(all: false, ct);
        BuildResult again = await BuildAsync(temp, null, ct);

        Assert.True(store.Contains(tagged.Manifest.Digest));
        Assert.All(again.Steps, s => Assert.True(s.Cached, s.Name)); // the cache's layers were kept

        await images.RemoveAsync("example/app:1", ct);
        long freed = await images.PruneAsync(all: true, ct);

        Assert.True(freed > 10_000);
        Assert.DoesNotContain(tagged.Manifest.Digest, store.EnumerateBlobs());
        Assert.Empty(Directory.EnumerateFiles(temp.Combine("root", "buildcache", "compressed")));
        BuildResult cold = await BuildAsync(temp, null, ct);
        Assert.All(cold.Steps, s => Assert.False(s.Cached, s.Name));
    }
}
