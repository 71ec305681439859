using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;

namespace Dbuild.IntegrationTests.Runtime;

/// <summary>
/// Snapshots a build keeps (overlay): an imported snapshot's layer is exactly the entries its tar had, unchanged files
/// taken from another snapshot are hard-linked (same inode, no bytes written), and nothing outside the snapshot store
/// can be linked in.
/// </summary>
public sealed class SnapshotImportTests(RuntimeFixture fixture) : IClassFixture<RuntimeFixture>
{
    private static readonly DateTimeOffset Time = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    [Fact]
    public async Task Import_LinkedFromAnotherSnapshot_SharesTheInodeAndWritesTheSameLayer()
    {
        RuntimeFixture.RequireRuntime();
        CancellationToken ct = TestContext.Current.CancellationToken;
        StepExecutor executor = fixture.CreateExecutor();
        Assert.True(await executor.UsesSnapshotsAsync(ct), "overlay snapshots are expected as root");
        byte[] bytes = "shared bytes\n"u8.ToArray();
        LayerEntry File(string path) => new()
        {
            Path = path, Type = LayerEntryType.File, Mode = (UnixFileMode)0b110_100_100, Uid = 1000, Gid = 1000, Size = bytes.Length,
            ModificationTime = Time, OpenContent = () => new MemoryStream(bytes),
        };
        Digest first = Digest.Compute("first"u8), second = Digest.Compute("second"u8);
        await executor.ImportSnapshotAsync(first, (tar, t) => LayerWriter.WriteAsync([File("a/f.txt")], tar, new LayerWriterOptions(), t), ["a/f.txt"], [], ct);
        string source = Path.Combine(executor.SnapshotDirectory(first)!, "a", "f.txt");

        LayerEntry dir = new() { Path = "b", Type = LayerEntryType.Directory, Mode = (UnixFileMode)0b111_101_101, ModificationTime = Time };
        await executor.ImportSnapshotAsync(second, (tar, t) => LayerWriter.WriteAsync([dir], tar, new LayerWriterOptions(), t), ["b", "b/g.txt"],
            [new("b/g.txt", source)], ct);

        string linked = Path.Combine(executor.SnapshotDirectory(second)!, "b", "g.txt");
        Assert.Equal(LinuxLayerFileSystem.Instance.GetStatus(source).Inode, LinuxLayerFileSystem.Instance.GetStatus(linked).Inode);
        Assert.Equal(Time, LinuxLayerFileSystem.Instance.GetStatus(Path.Combine(executor.SnapshotDirectory(second)!, "b")).ModificationTime); // the link did not move it

        // The layer written from the linked snapshot is the one a copy would have given.
        using var fromLink = new MemoryStream();
        LayerWriteResult written = await executor.WriteLayerAsync([LayerSource.ForSnapshot(second)], false, fromLink, new LayerWriterOptions { Compression = LayerCompression.None }, ct);
        using var direct = new MemoryStream();
        LayerWriteResult expected = await LayerWriter.WriteAsync([dir, File("b/g.txt")], direct, new LayerWriterOptions { Compression = LayerCompression.None }, ct);
        Assert.Equal(expected.DiffId, written.DiffId);
    }

    [Fact]
    public async Task Import_LinkToAFileOutsideTheStore_IsRefused()
    {
        RuntimeFixture.RequireRuntime();
        CancellationToken ct = TestContext.Current.CancellationToken;
        StepExecutor executor = fixture.CreateExecutor();
        Assert.True(await executor.UsesSnapshotsAsync(ct));

        await Assert.ThrowsAsync<InvalidOperationException>(() => executor.ImportSnapshotAsync(Digest.Compute("outside"u8),
            (tar, t) => LayerWriter.WriteAsync([], tar, new LayerWriterOptions(), t), ["passwd"], [new("passwd", "/etc/passwd")], ct));
        Assert.Null(executor.SnapshotDirectory(Digest.Compute("outside"u8)));
    }
}
