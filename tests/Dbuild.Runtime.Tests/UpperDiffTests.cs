using Dbuild.Testing;

namespace Dbuild.Runtime.Tests;

/// <summary>
/// Which copied-up-but-unchanged files go into a layer: none, unless the step hard-linked them to a name that is not
/// the same file below. The "upper" trees here are made with cp -a, as overlay's copy-up (and the copying snapshotter)
/// would leave them: same metadata, new inode.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UpperDiffTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>lower: etc/group and the hard-linked pair etc/a + etc/b; upper: a cp -a copy of it.</summary>
    private static async Task<(TempDirectory Temp, string Lower, string Upper)> CopiedUpAsync()
    {
        var temp = new TempDirectory();
        string lower = temp.Combine("lower");
        Directory.CreateDirectory(Path.Combine(lower, "etc"));
        await File.WriteAllTextAsync(Path.Combine(lower, "etc", "group"), "root:x:0:\n", Token);
        await File.WriteAllTextAsync(Path.Combine(lower, "etc", "a"), "data", Token);
        Interop.Link(Path.Combine(lower, "etc", "a"), Path.Combine(lower, "etc", "b"));
        string upper = temp.Combine("upper");
        await CopyTree.CopyAsync(lower, upper, Token);
        return (temp, lower, upper);
    }

    [Fact]
    public async Task IsChanged_CopiedUpUnchanged_LeftOut()
    {
        (TempDirectory temp, string lower, string upper) = await CopiedUpAsync();
        using (temp)
        {
            Assert.False(new UpperDiff(upper, [lower]).IsChanged(Path.Combine(upper, "etc", "group")));
        }
    }

    [Fact]
    public async Task IsChanged_CopiedUpThenLinkedToANewName_BothKept()
    {
        (TempDirectory temp, string lower, string upper) = await CopiedUpAsync();
        using (temp)
        {
            Directory.CreateDirectory(Path.Combine(upper, "sp"));
            Interop.Link(Path.Combine(upper, "etc", "group"), Path.Combine(upper, "sp", "group-link"));
            var diff = new UpperDiff(upper, [lower]);
            Assert.True(diff.IsChanged(Path.Combine(upper, "etc", "group")));
            Assert.True(diff.IsChanged(Path.Combine(upper, "sp", "group-link")));
        }
    }

    [Fact]
    public async Task IsChanged_PairLinkedBelowAlready_LeftOut()
    {
        // the copying snapshotter's tree holds the parent's hard links as they were: no change
        (TempDirectory temp, string lower, string upper) = await CopiedUpAsync();
        using (temp)
        {
            Assert.Equal(2u, Interop.LStat(Path.Combine(upper, "etc", "a")).LinkCount);
            var diff = new UpperDiff(upper, [lower]);
            Assert.False(diff.IsChanged(Path.Combine(upper, "etc", "a")));
            Assert.False(diff.IsChanged(Path.Combine(upper, "etc", "b")));
        }
    }

    [Fact]
    public async Task IsChanged_PairLinkedBelow_OneNameLinkedToANewName_Kept()
    {
        // lower a+b; the step copies a up and links c to it: a's inode now holds a and c, b stays below on its own
        (TempDirectory temp, string lower, string upper) = await CopiedUpAsync();
        using (temp)
        {
            File.Delete(Path.Combine(upper, "etc", "b"));
            Interop.Link(Path.Combine(upper, "etc", "a"), Path.Combine(upper, "etc", "c"));
            Assert.Equal(2u, Interop.LStat(Path.Combine(upper, "etc", "a")).LinkCount); // the same count as below
            Assert.True(new UpperDiff(upper, [lower]).IsChanged(Path.Combine(upper, "etc", "a")));
        }
    }

    [Fact]
    public async Task IsChanged_LinkCountOnlyDropped_LeftOut()
    {
        // a lower pair broken by copy-up, content and metadata unchanged: containerd and BuildKit leave it out too
        (TempDirectory temp, string lower, string upper) = await CopiedUpAsync();
        using (temp)
        {
            File.Delete(Path.Combine(upper, "etc", "b"));
            Assert.False(new UpperDiff(upper, [lower]).IsChanged(Path.Combine(upper, "etc", "a")));
        }
    }
}
