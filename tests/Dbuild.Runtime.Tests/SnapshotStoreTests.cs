using System.Text;
using Dbuild.Oci;

namespace Dbuild.Runtime.Tests;

public sealed class SnapshotStoreTests
{
    private static readonly Digest A = Digest.Compute("a"u8);
    private static readonly Digest B = Digest.Compute("b"u8);
    private static readonly Digest C = Digest.Compute("c"u8);

    [Fact]
    public void ChainIds_FirstIsDiffId_ThenHashOfParentSpaceDiffId()
    {
        List<Digest> chain = SnapshotStore.ChainIds([A, B, C]);
        Assert.Equal(A, chain[0]);
        Assert.Equal(Digest.Compute(Encoding.ASCII.GetBytes($"{A} {B}")), chain[1]);
        Assert.Equal(Digest.Compute(Encoding.ASCII.GetBytes($"{chain[1]} {C}")), chain[2]);
    }

    [Fact]
    public void ChainIds_Empty_IsEmpty() => Assert.Empty(SnapshotStore.ChainIds([]));
}

public sealed class TopDirectoryTests
{
    /// <summary>ext4 (the state root's usual filesystem here) takes the flag and lsattr shows it; elsewhere the call says no and changes nothing.</summary>
    [Fact]
    public async Task TryMarkTopDirectory_Ext4_LsattrShowsT_NothingElseChanges()
    {
        string root = Path.Combine("/var/tmp", "dbuild-topdir-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "keep"), "x", TestContext.Current.CancellationToken);
            bool marked = Interop.TryMarkTopDirectory(root);
            Assert.True(Interop.TryMarkTopDirectory(root) == marked); // idempotent
            var lsattr = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("lsattr", ["-d", root]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            string flags = (await lsattr.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken)).Split(' ')[0];
            await lsattr.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(marked, flags.Contains('T', StringComparison.Ordinal));
            Assert.Equal("x", await File.ReadAllTextAsync(Path.Combine(root, "keep"), TestContext.Current.CancellationToken));
            Assert.False(Interop.TryMarkTopDirectory(Path.Combine(root, "keep"))); // not a directory
            Assert.False(Interop.TryMarkTopDirectory(Path.Combine(root, "absent")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
