using System.Globalization;
using Dbuild.Testing;

namespace Dbuild.Runtime.Tests;

/// <summary>DiskUsage measures as <c>du -sb</c> does: apparent sizes, directories and symlinks included, hard links once.</summary>
public sealed class DiskUsageTests
{
    private static async Task<long> DuAsync(params string[] paths)
    {
        ProcessResult du = (await ProcessRunner.RunAsync("du", ["-sbc", .. paths], TestContext.Current.CancellationToken)).EnsureSuccess();
        return long.Parse(du.StandardOutput.Trim().Split('\n')[^1].Split('\t')[0], CultureInfo.InvariantCulture);
    }

    private static TempDirectory MakeTrees()
    {
        var temp = new TempDirectory("dbuild-du-");
        Directory.CreateDirectory(temp.Combine("one", "sub"));
        Directory.CreateDirectory(temp.Combine("two"));
        File.WriteAllText(temp.Combine("one", "sub", "big"), new string('x', 123_457));
        File.WriteAllText(temp.Combine("one", "small"), "hi");
        File.CreateSymbolicLink(temp.Combine("one", "link"), "/nonexistent/target/of/some/length");
        LinuxLayerFileSystem.Instance.CreateHardLink(temp.Combine("one", "sub", "big"), temp.Combine("one", "big-again")); // within one tree
        LinuxLayerFileSystem.Instance.CreateHardLink(temp.Combine("one", "sub", "big"), temp.Combine("two", "big"));       // across trees
        File.WriteAllText(temp.Combine("two", "own"), new string('y', 999));
        return temp;
    }

    [Fact]
    public async Task Of_OneTree_EqualsDu()
    {
        using TempDirectory temp = MakeTrees();
        Assert.Equal(await DuAsync(temp.Combine("one")), DiskUsage.Of(temp.Combine("one")));
    }

    [Fact]
    public async Task Measure_SeveralTrees_HardLinkCountedOnceLikeOneDuRun()
    {
        using TempDirectory temp = MakeTrees();
        var usage = new DiskUsage();

        long total = usage.Measure(temp.Combine("one")) + usage.Measure(temp.Combine("two"));

        Assert.Equal(await DuAsync(temp.Combine("one"), temp.Combine("two")), total);
        Assert.True(total < DiskUsage.Of(temp.Combine("one")) + DiskUsage.Of(temp.Combine("two")), "the shared file counts once");
    }

    [Fact]
    public void Measure_Missing_Zero() => Assert.Equal(0, new DiskUsage().Measure("/nonexistent/dbuild-du"));
}
