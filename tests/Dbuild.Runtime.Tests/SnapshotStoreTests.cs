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
