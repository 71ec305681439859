using Dbuild.Solver.Cache;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// <c>dbuild builder prune</c> and the GC policy on real builds: image A's cache is aged two days, image B built fresh;
/// a prune or the GC after B's build must drop exactly A's entries, keep B's, and leave a cache later builds use.
/// </summary>
public sealed class BuilderPruneTests
{
    private static readonly TimeSpan TwoDays = TimeSpan.FromDays(2);

    /// <summary>Builds A, ages it, builds B; returns A's context and the entries unused since (A's) and used by B's build.</summary>
    private static async Task<(string ContextA, string ContextB, List<CacheEntry> Old, List<CacheEntry> Fresh)> TwoBuildsAsync(CacheRoot root, CancellationToken ct)
    {
        string a = await root.ContextAsync("a", 200_000, ct);
        string b = await root.ContextAsync("b", 100_000, ct);
        await root.BuildAsync(a, "example/a:1", ct);
        root.Age(TwoDays);
        await root.BuildAsync(b, "example/b:1", ct);
        CacheUsageReport report = await root.ScanAsync(ct);
        DateTimeOffset dayAgo = DateTimeOffset.UtcNow - TimeSpan.FromDays(1);
        return (a, b, [.. report.Entries.Where(e => e.LastUsed < dayAgo)], [.. report.Entries.Where(e => e.LastUsed >= dayAgo)]);
    }

    private static async Task<HashSet<string>> IdsAsync(CacheRoot root, CancellationToken ct) =>
        [.. (await root.ScanAsync(ct)).Entries.Select(e => e.Id)];

    [Fact]
    public async Task Prune_UntilFilter_DropsOnlyEntriesUnusedForLonger_AfterConfirmation()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-prune-");
        var root = new CacheRoot(env, temp);
        (string a, string b, List<CacheEntry> old, List<CacheEntry> fresh) = await TwoBuildsAsync(root, ct);
        (await root.DbuildAsync(["rmi", "example/a:1"], ct)).EnsureSuccess(); // A's layers are no longer an image's: plain prune may take them
        old = [.. (await root.ScanAsync(ct)).Entries.Where(e => e.LastUsed < DateTimeOffset.UtcNow - TimeSpan.FromDays(1))]; // now with A's image blobs
        Assert.Contains(old, e => e.Kind == CacheEntryKind.Blob);
        Assert.Contains(old, e => e.Kind == CacheEntryKind.CacheMount);
        Assert.Contains(old, e => e.Kind == CacheEntryKind.Snapshot);

        ProcessResult declined = (await root.DbuildAsync(["builder", "prune", "--filter", "until=24h"], ct, standardInput: "n\n")).EnsureSuccess();
        Assert.StartsWith("WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] ", declined.StandardOutput, StringComparison.Ordinal);
        Assert.Superset(old.Select(e => e.Id).ToHashSet(), await IdsAsync(root, ct));

        ProcessResult pruned = (await root.DbuildAsync(["builder", "prune", "--filter", "until=24h"], ct, standardInput: "y\n")).EnsureSuccess();

        HashSet<string> left = await IdsAsync(root, ct);
        Assert.All(old, e => Assert.DoesNotContain(e.Id, left));
        Assert.All(fresh, e => Assert.Contains(e.Id, left));
        Assert.Contains("ID\t", pruned.StandardOutput, StringComparison.Ordinal);
        Assert.EndsWith("Total:\t" + CacheRoot.Human(old.Sum(e => e.Size)) + "\n", pruned.StandardOutput, StringComparison.Ordinal);
        Assert.All(await root.BuildAsync(b, "example/b:1", ct), cached => Assert.True(cached)); // B's cache is whole
        Assert.False((await root.BuildAsync(a, "example/a:1", ct))[0]); // A's RUN runs again
    }

    [Fact]
    public async Task Prune_KeepStorage_KeepsTheMostRecentlyUsedUpToTheSize()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-prune-");
        var root = new CacheRoot(env, temp);
        (_, string b, List<CacheEntry> old, List<CacheEntry> fresh) = await TwoBuildsAsync(root, ct);
        long keep = fresh.Sum(e => e.Size);

        ProcessResult pruned = (await root.DbuildAsync(["builder", "prune", "--all", "-f", "--keep-storage", keep.ToString(System.Globalization.CultureInfo.InvariantCulture)], ct)).EnsureSuccess();

        HashSet<string> left = await IdsAsync(root, ct);
        Assert.All(old, e => Assert.DoesNotContain(e.Id, left));
        Assert.All(fresh, e => Assert.Contains(e.Id, left));
        Assert.EndsWith("Total:\t" + CacheRoot.Human(old.Sum(e => e.Size)) + "\n", pruned.StandardOutput, StringComparison.Ordinal);
        Assert.All(await root.BuildAsync(b, "example/b:1", ct), cached => Assert.True(cached));
    }

    [Fact]
    public async Task Prune_NoForceAndNoAnswer_RemovesNothing()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-prune-");
        var root = new CacheRoot(env, temp);
        await root.BuildAsync(await root.ContextAsync("a", 10_000, ct), "example/a:1", ct);
        HashSet<string> before = await IdsAsync(root, ct);

        ProcessResult result = (await root.DbuildAsync(["builder", "prune", "--all"], ct, standardInput: "")).EnsureSuccess(); // stdin at EOF, as in CI

        Assert.Equal("WARNING! This will remove all build cache. Are you sure you want to continue? [y/N]", result.StandardOutput.TrimEnd()); // the runner ends each line with \n
        Assert.Equal(before, await IdsAsync(root, ct));
    }

    [Fact]
    public async Task GcPolicy_CacheOverLimit_TrimmedAfterBuild_NextBuildsWork()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-gc-");
        var root = new CacheRoot(env, temp);
        Directory.CreateDirectory(root.Root);
        await File.WriteAllTextAsync(Path.Combine(root.Root, GcPolicy.FileName), """{"gc": {"keepStorage": "1MB"}}""", ct);
        string a = await root.ContextAsync("a", 600_000, ct);
        string b = await root.ContextAsync("b", 300_000, ct);
        await root.BuildAsync(a, "example/a:1", ct);
        CacheUsageReport afterA = await root.ScanAsync(ct);
        Assert.True(afterA.CacheSize > 1 << 20, "A's cache alone is over the limit, but the build that made it keeps it");
        root.Age(TwoDays);

        await root.BuildAsync(b, "example/b:1", ct);

        CacheUsageReport afterB = await root.ScanAsync(ct);
        DateTimeOffset dayAgo = DateTimeOffset.UtcNow - TimeSpan.FromDays(1);
        Assert.All(afterB.Entries, e => Assert.True(e.LastUsed >= dayAgo, $"{e.Kind} {e.Id} ({e.Description}) unused since A's build is left"));
        Assert.DoesNotContain(afterA.Entries.Single(e => e.Kind == CacheEntryKind.CacheMount).Id, afterB.Entries.Select(e => e.Id));
        Assert.All(await root.BuildAsync(b, "example/b:1", ct), cached => Assert.True(cached)); // what B's build used was kept
        Assert.False((await root.BuildAsync(a, "example/a:1", ct))[0]); // A builds again from scratch
    }
}
