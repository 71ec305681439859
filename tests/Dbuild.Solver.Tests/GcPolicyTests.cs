using Dbuild.Solver.Cache;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>The GC policy in the state root's config.json: BuildKit's defaults, the keys, and clear errors.</summary>
public sealed class GcPolicyTests
{
    private const long GiB = 1L << 30;

    private static GcPolicy LoadFrom(TempDirectory temp, string json)
    {
        File.WriteAllText(temp.Combine(GcPolicy.FileName), json);
        return GcPolicy.Load(temp.Path);
    }

    [Fact]
    public void Load_NoConfig_BuildKitDefaults()
    {
        using var temp = new TempDirectory();
        GcPolicy policy = GcPolicy.Load(temp.Path);

        Assert.True(policy.Enabled);
        Assert.Null(policy.KeepStorage);
        Assert.Equal(10, policy.KeepStoragePercent);
        Assert.Equal(TimeSpan.FromDays(60), policy.KeepDuration);
    }

    [Fact]
    public void LimitBytes_TenPercent_RoundedUpAsBuildKit() =>
        // 10% of 100 GiB is 10 GiB; BuildKit rounds to (whole GiB + 1) × 1e9.
        Assert.Equal(11_000_000_000, new GcPolicy().LimitBytes(100 * GiB));

    [Fact]
    public void Load_Keys_AreRead()
    {
        using var temp = new TempDirectory();
        GcPolicy policy = LoadFrom(temp, """{"gc": {"enabled": false, "keepStorage": "5GB", "keepDuration": "48h"}}""");

        Assert.False(policy.Enabled);
        Assert.Equal(5 * GiB, policy.KeepStorage);
        Assert.Equal(5 * GiB, policy.LimitBytes(100 * GiB));
        Assert.Equal(TimeSpan.FromHours(48), policy.KeepDuration);
    }

    [Fact]
    public void Load_Percent_SetsShare()
    {
        using var temp = new TempDirectory();
        GcPolicy policy = LoadFrom(temp, """{"gc": {"keepStorage": "20%"}}""");

        Assert.Null(policy.KeepStorage);
        Assert.Equal(21_000_000_000, policy.LimitBytes(100 * GiB));
    }

    [Fact]
    public void Load_NumberOfBytes_IsBytes()
    {
        using var temp = new TempDirectory();
        Assert.Equal(1_000_000, LoadFrom(temp, """{"gc": {"keepStorage": 1000000}}""").KeepStorage);
    }

    [Theory]
    [InlineData("""{"gc": {"keepStorage": "lots"}}""", "gc.keepStorage")]    // not a size
    [InlineData("""{"gc": {"keepStorage": "0%"}}""", "gc.keepStorage")]      // no share
    [InlineData("""{"gc": {"keepDuration": "60d"}}""", "gc.keepDuration")]   // Go has no days
    [InlineData("""{"gc": {"enabled": "yes"}}""", "config.json")]            // not a boolean
    [InlineData("""{"gc": """, "not valid JSON")]                              // torn
    public void Load_Invalid_ThrowsNamingFileAndKey(string json, string named)
    {
        using var temp = new TempDirectory();
        FormatException ex = Assert.Throws<FormatException>(() => LoadFrom(temp, json));
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Steps_AreBuildKitsDefaultPolicy()
    {
        IReadOnlyList<CachePruneOptions> steps = new GcPolicy().Steps(11_000_000_000);

        Assert.Equal(4, steps.Count);
        Assert.Equal(["exec.cachemount"], steps[0].Types);
        Assert.Equal((TimeSpan.FromHours(48), 512_000_000L), (steps[0].Until!.Value, steps[0].KeepStorage!.Value));
        Assert.Equal(TimeSpan.FromDays(60), steps[1].Until);
        Assert.All(steps.Skip(1), s => Assert.Equal(11_000_000_000, s.KeepStorage));
        Assert.True(steps[3].All);
    }

    [Fact]
    public async Task DiskSize_IsTheStateRootsFileSystem_AsStatfsReportsIt()
    {
        using var temp = new TempDirectory();
        ProcessResult stat = (await ProcessRunner.RunAsync("stat", ["-f", "-c", "%b %S", temp.Path], TestContext.Current.CancellationToken)).EnsureSuccess();
        long[] fields = [.. stat.StandardOutput.Trim().Split(' ').Select(long.Parse)];

        Assert.Equal(fields[0] * fields[1], CacheGarbageCollector.DiskSize(temp.Path));
    }
}
