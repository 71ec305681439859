using Dbuild.Oci;
using Dbuild.Solver.Cache;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>The GC policy at the end of an in-process build: over the limit, what the build did not use goes; its own cache stays.</summary>
public sealed class CacheGarbageCollectorTests
{
    private static async Task<BuildResult> BuildAsync(TempDirectory temp, string name, string tag, CancellationToken ct)
    {
        Directory.CreateDirectory(temp.Combine("ctx-" + name));
        await File.WriteAllTextAsync(temp.Combine("ctx-" + name, name + ".txt"), new string(name[0], 50_000), ct);
        var builder = new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root") });
        return await builder.BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx-" + name),
            DockerfileText = $"FROM scratch\nCOPY {name}.txt /\n",
            Tags = [Reference.Parse(tag)],
            Platform = Platform.LinuxAmd64,
        }, cancellationToken: ct);
    }

    /// <summary>Sets every record, blob, snapshot and cache mount of the root two days back.</summary>
    private static void Age(string root)
    {
        DateTime then = DateTime.UtcNow - TimeSpan.FromDays(2);
        foreach (string file in Directory.EnumerateFiles(Path.Combine(root, "buildcache"), "*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "content", "blobs", "sha256")))) { File.SetLastWriteTimeUtc(file, then); }
        foreach (string dir in Dbuild.Runtime.RuntimeLayout.SnapshotDirectories(root).Append(Dbuild.Runtime.RuntimeLayout.CacheMountDirectory(root))
            .Where(Directory.Exists).SelectMany(Directory.EnumerateDirectories)) { Directory.SetLastWriteTimeUtc(dir, then); }
    }

    /// <summary>A root with <paramref name="config"/>, where image A was built, untagged (its blobs are the cache's now: snapshots need root, blobs are everywhere) and aged.</summary>
    private static async Task<string> BuildOldImageAsync(TempDirectory temp, string config, CancellationToken ct)
    {
        string root = temp.Combine("root");
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(Path.Combine(root, GcPolicy.FileName), config, ct);
        await BuildAsync(temp, "a", "example/a:1", ct);
        await new LocalImages(root).RemoveAsync("example/a:1", ct);
        Age(root);
        return root;
    }

    [Fact]
    public async Task Build_CacheOverLimit_DropsWhatItDidNotUse_KeepsItsOwn()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-gc-");
        string root = await BuildOldImageAsync(temp, """{"gc": {"keepStorage": "1"}}""", ct);
        HashSet<string> fromA = [.. (await CacheUsage.ScanAsync(root, exact: true, ct)).Entries.Where(e => e.Kind != CacheEntryKind.Records).Select(e => e.Id)];

        await BuildAsync(temp, "b", "example/b:1", ct);

        CacheUsageReport after = await CacheUsage.ScanAsync(root, exact: true, ct);
        Assert.NotEmpty(fromA);
        Assert.DoesNotContain(after.Entries, e => fromA.Contains(e.Id));
        Assert.All((await BuildAsync(temp, "b", "example/b:1", ct)).Steps, s => Assert.True(s.Cached, s.Name));
        Assert.All((await BuildAsync(temp, "a", "example/a:1", ct)).Steps, s => Assert.False(s.Cached, s.Name));
    }

    [Fact]
    public async Task Build_GcDisabled_KeepsEverything()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-gc-");
        string root = await BuildOldImageAsync(temp, """{"gc": {"enabled": false, "keepStorage": "1"}}""", ct);
        HashSet<string> before = [.. (await CacheUsage.ScanAsync(root, exact: true, ct)).Entries.Select(e => e.Id)];

        await BuildAsync(temp, "b", "example/b:1", ct);

        Assert.Superset(before, (await CacheUsage.ScanAsync(root, exact: true, ct)).Entries.Select(e => e.Id).ToHashSet());
    }
}
