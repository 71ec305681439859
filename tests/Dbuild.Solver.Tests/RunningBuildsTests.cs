using System.Diagnostics;
using Dbuild.Solver.Cache;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>Builds running on a root (their <c>tmp/build-PID-…</c> directories) mark what they may use as in use.</summary>
public sealed class RunningBuildsTests
{
    [Fact]
    public void InUseSince_NoBuildDirectories_Null()
    {
        using var temp = new TempDirectory();
        Assert.Null(RunningBuilds.InUseSince(temp.Path));
    }

    [Fact]
    public void InUseSince_LiveBuild_ItsProcessStart()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.Combine("tmp", $"build-{Environment.ProcessId}-{Guid.NewGuid():N}"));

        Assert.Equal(RunningBuilds.ThisProcessStarted, RunningBuilds.InUseSince(temp.Path));
    }

    [Fact]
    public async Task InUseSince_KilledBuildsLeftover_Ignored()
    {
        using var temp = new TempDirectory();
        using Process gone = Process.Start("true")!;
        await gone.WaitForExitAsync(TestContext.Current.CancellationToken);
        Directory.CreateDirectory(temp.Combine("tmp", $"build-{gone.Id}-{Guid.NewGuid():N}"));

        Assert.Null(RunningBuilds.InUseSince(temp.Path));
    }
}
