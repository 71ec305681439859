using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Tests;

/// <summary>Which entries a prune chooses: buildx's --all, until and keep-storage meanings, least recently used first.</summary>
public sealed class CachePrunerTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static CacheEntry Entry(string id, long size, double hoursAgo, CacheEntryKind kind = CacheEntryKind.Snapshot, bool shared = false) =>
        new(id, kind, size, Now - TimeSpan.FromHours(hoursAgo)) { Shared = shared };

    private static readonly CacheUsageReport Report = new(0, 0,
    [
        Entry("new", 100, 1),
        Entry("day-old", 200, 30),
        Entry("week-old", 400, 24 * 7),
        Entry("base-layers", 800, 24 * 7, shared: true),
        Entry("apt-cache", 1600, 24 * 3, CacheEntryKind.CacheMount),
        Entry("buildcache", 50, 24 * 10, CacheEntryKind.Records),
    ]);

    private static string[] Ids(IReadOnlyList<CacheEntry> entries) => [.. entries.Select(e => e.Id)];

    [Fact]
    public void Select_NotAll_SkipsSharedAndInternal() =>
        Assert.Equal(["week-old", "apt-cache", "day-old", "new"], Ids(CachePruner.Select(Report, new CachePruneOptions(), Now)));

    [Fact]
    public void Select_All_TakesEverythingOldestFirst() =>
        Assert.Equal(["buildcache", "base-layers", "week-old", "apt-cache", "day-old", "new"], Ids(CachePruner.Select(Report, new CachePruneOptions { All = true }, Now)));

    [Fact]
    public void Select_Until_OnlyEntriesUnusedForLonger() =>
        Assert.Equal(["week-old", "apt-cache", "day-old"], Ids(CachePruner.Select(Report, new CachePruneOptions { Until = TimeSpan.FromHours(24) }, Now)));

    [Fact]
    public void Select_KeepStorage_DropsOldestUntilTheCacheFits()
    {
        // 3150 bytes in all; keeping 1200 takes the oldest candidates until at most 1200 remain.
        IReadOnlyList<CacheEntry> chosen = CachePruner.Select(Report, new CachePruneOptions { KeepStorage = 1200 }, Now);

        Assert.Equal(["week-old", "apt-cache"], Ids(chosen));
        Assert.True(Report.CacheSize - chosen.Sum(e => e.Size) <= 1200);
    }

    [Fact]
    public void Select_KeepStorageAboveTheCache_ChoosesNothing() =>
        Assert.Empty(CachePruner.Select(Report, new CachePruneOptions { All = true, KeepStorage = 10_000 }, Now));

    [Fact]
    public void Select_TypeFilter_OnlyThatType() =>
        Assert.Equal(["apt-cache"], Ids(CachePruner.Select(Report, new CachePruneOptions { Types = ["exec.cachemount"] }, Now)));

    [Fact]
    public void Select_Protected_NeverChosen() =>
        Assert.DoesNotContain("week-old", Ids(CachePruner.Select(Report, new CachePruneOptions { All = true }, Now, e => e.Id == "week-old")));
}
