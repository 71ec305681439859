using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>
/// docker's layer size (what overlay2 measures of the unpacked layer: file bytes, a hard-linked file once, each symlink's
/// target), measured once per layer and then read from the record beside the content store.
/// </summary>
public sealed class LayerSizesTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetAsync_FilesOnceAndSymlinkTargets_ThenFromTheRecordWithoutTheBlob()
    {
        using var temp = new TempDirectory();
        LayerEntry[] entries =
        [
            new() { Path = "dir", Type = LayerEntryType.Directory },
            new() { Path = "dir/three", Type = LayerEntryType.File, Size = 3, OpenContent = () => new MemoryStream("abc"u8.ToArray()) },
            new() { Path = "five.txt", Type = LayerEntryType.File, Size = 5, OpenContent = () => new MemoryStream("12345"u8.ToArray()) },
            new() { Path = "hard", Type = LayerEntryType.HardLink, LinkTarget = "five.txt" },
            new() { Path = "link", Type = LayerEntryType.Symlink, LinkTarget = "five.txt" }, // 8 bytes of target
            LayerEntry.Whiteout("gone"),
        ];
        ContentStore store = ContentStore.ForStateRoot(temp.Combine("state"));
        Descriptor layer;
        await using (FileStream blob = File.Create(temp.Combine("layer.tar.gz")))
        {
            LayerWriteResult written = await LayerWriter.WriteAsync(entries, blob, cancellationToken: Token);
            blob.Position = 0;
            layer = await store.WriteBlobAsync(blob, written.MediaType, written.Digest, cancellationToken: Token);
        }
        var sizes = new LayerSizes(store);

        long measured = await sizes.GetAsync(layer.Digest, Token);
        store.DeleteBlob(layer.Digest);
        long recorded = await new LayerSizes(store).GetAsync(layer.Digest, Token);

        Assert.Equal(5 + 3 + "five.txt".Length, measured);
        Assert.Equal(measured, recorded);
    }

    [Fact]
    public async Task GetAsync_BlobThatIsNotATar_CountsItsStoredSize()
    {
        // A registry's artifact layer (or a test's random bytes): pulls and listings must not fail on it.
        using var temp = new TempDirectory();
        ContentStore store = ContentStore.ForStateRoot(temp.Combine("state"));
        byte[] bytes = new byte[1000];
        new Random(7).NextBytes(bytes);
        Descriptor blob = await store.WriteBlobAsync(new MemoryStream(bytes), "application/octet-stream", Digest.Compute(bytes), cancellationToken: Token);

        Assert.Equal(1000, await new LayerSizes(store).GetAsync(blob.Digest, Token));
    }
}
