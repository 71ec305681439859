using System.Globalization;
using Dbuild.IntegrationTests.Build;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Store;

/// <summary>
/// Two <c>dbuild build</c> processes on one state root, each running two RUN steps with the same cache mount that write
/// their start and end times into it and sleep a second: with <c>sharing=locked</c> no two intervals overlap (the lock is
/// a <c>flock</c> under STATE/locks, held across processes); with <c>sharing=shared</c> they do, which shows the test can
/// see an overlap. Times come from <c>/proc/uptime</c> (one clock for host and containers; busybox's date has no %N).
/// </summary>
public sealed class CrossProcessLockTests : IDisposable
{
    private readonly TempDirectory _dir = new("dbuild-xlock-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task LockedCacheMount_TwoBuildProcesses_StepsNeverOverlap()
    {
        IReadOnlyList<Interval> intervals = await RunTwoBuildsAsync("locked");

        Assert.Equal(4, intervals.Count);
        var ordered = intervals.OrderBy(i => i.Start).ToList();
        for (int i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i].Start >= ordered[i - 1].End, $"{ordered[i]} started before {ordered[i - 1]} ended: {string.Join(", ", ordered)}");
        }
    }

    [Fact]
    public async Task SharedCacheMount_TwoBuildProcesses_StepsOverlap()
    {
        IReadOnlyList<Interval> intervals = await RunTwoBuildsAsync("shared");

        Assert.Equal(4, intervals.Count);
        Assert.Contains(intervals, a => intervals.Any(b => b.Build != a.Build && b.Start < a.End && a.Start < b.End));
    }

    private async Task<IReadOnlyList<Interval>> RunTwoBuildsAsync(string sharing)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Prerequisites.RequireRoot("RUN steps with cache mounts");
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        string root = _dir.Combine("state");
        // The base image first, so both builds reach their RUN steps at about the same time.
        (await DbuildCli.RunAsync(["--root", root, "pull", "-q", env.BaseImage], ct, timeout: TimeSpan.FromMinutes(1))).EnsureSuccess();
        string[] contexts = ["a", "b"];
        foreach (string name in contexts)
        {
            string context = _dir.Combine(name);
            Directory.CreateDirectory(context);
            string run = $"RUN --mount=type=cache,target=/c,id=xlock,sharing={sharing} sh -c 'read s _ < /proc/uptime; sleep 1; read e _ < /proc/uptime; echo \"$s $e\" > /c/{name}-$0' ";
            await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), $"FROM {env.BaseImage}\n{run}1\n{run}2\n", ct);
        }

        ProcessResult[] builds = await Task.WhenAll(contexts.Select(name => DbuildCli.RunAsync(
            ["--root", root, "build", "--no-cache", "--progress", "plain", _dir.Combine(name)], ct, timeout: TimeSpan.FromMinutes(2))));

        Assert.All(builds, b => b.EnsureSuccess());
        string cacheDir = Assert.Single(Directory.GetDirectories(Path.Combine(root, "runtime", "cache")));
        return [.. Directory.GetFiles(cacheDir).Select(file =>
        {
            string[] times = File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return new Interval(Path.GetFileName(file)[0], Path.GetFileName(file),
                decimal.Parse(times[0], CultureInfo.InvariantCulture), decimal.Parse(times[1], CultureInfo.InvariantCulture));
        })];
    }

    private sealed record Interval(char Build, string Step, decimal Start, decimal End);
}
