using System.Text;
using Dbuild.Testing;

namespace Dbuild.Oci.Tests;

public sealed class ContentStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Open_CreatesLayoutFiles()
    {
        ContentStore store = ContentStore.Open(_dir.Combine("layout"));
        Assert.Equal("""{"imageLayoutVersion":"1.0.0"}""", File.ReadAllText(Path.Combine(store.Root, "oci-layout")));
        Assert.Empty(ImageIndex.Parse(File.ReadAllBytes(Path.Combine(store.Root, "index.json"))).Manifests);
    }

    [Fact]
    public async Task WriteBlob_Stream_StoresUnderDigestPath()
    {
        ContentStore store = ContentStore.Open(_dir.Path);
        byte[] data = Encoding.UTF8.GetBytes("hello layer");
        Descriptor d = await store.WriteBlobAsync(new MemoryStream(data), MediaTypes.OciLayer, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(Digest.Compute(data), d.Digest);
        Assert.Equal(data.Length, d.Size);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(_dir.Path, "blobs", "sha256", d.Digest.Encoded)));
    }

    [Fact]
    public async Task WriteBlob_WrongDigest_ThrowsAndLeavesNothing()
    {
        ContentStore store = ContentStore.Open(_dir.Path);
        Digest promised = Digest.Compute("other"u8);
        var ex = await Assert.ThrowsAsync<DigestMismatchException>(() =>
            store.WriteBlobAsync(new MemoryStream("actual"u8.ToArray()), MediaTypes.OciLayer, promised, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(promised, ex.Expected);
        Assert.Equal(Digest.Compute("actual"u8), ex.Actual);
        Assert.False(store.Contains(promised));
        Assert.False(store.Contains(ex.Actual));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir.Path, "ingest")));
    }

    [Fact]
    public async Task WriteBlob_WrongSize_ThrowsAndLeavesNothing()
    {
        ContentStore store = ContentStore.Open(_dir.Path);
        Digest digest = Digest.Compute("abc"u8);
        await Assert.ThrowsAsync<InvalidContentException>(() =>
            store.WriteBlobAsync(new MemoryStream("abc"u8.ToArray()), MediaTypes.OciLayer, digest, 4, TestContext.Current.CancellationToken));
        Assert.False(store.Contains(digest));
    }

    [Fact]
    public async Task WriteBlob_TwentyConcurrentWritersOfOneBlob_AllSucceedOneCopy()
    {
        byte[] data = new byte[3 * 1024 * 1024];
        new Random(42).NextBytes(data);
        Digest digest = Digest.Compute(data);
        // Separate store instances, as separate processes would have: nothing is shared but the directory.
        Descriptor[] results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() =>
            ContentStore.Open(_dir.Path).WriteBlobAsync(new SlowStream(data), MediaTypes.OciLayer, digest, data.Length, TestContext.Current.CancellationToken))));
        Assert.All(results, r => Assert.Equal(digest, r.Digest));
        Assert.Equal([digest.Encoded], Directory.EnumerateFiles(Path.Combine(_dir.Path, "blobs", "sha256")).Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir.Path, "ingest")));
        Assert.True(await ContentStore.Open(_dir.Path).VerifyBlobAsync(digest, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task OpenBlob_Verified_DetectsCorruptionOnRead()
    {
        ContentStore store = ContentStore.Open(_dir.Path);
        Descriptor d = await store.WriteBlobAsync("original content"u8.ToArray(), MediaTypes.OciLayer, TestContext.Current.CancellationToken);
        File.WriteAllText(store.GetBlobPath(d.Digest), "tampered content");
        Assert.False(await store.VerifyBlobAsync(d.Digest, TestContext.Current.CancellationToken));
        await using Stream stream = store.OpenBlob(d.Digest, verify: true);
        await Assert.ThrowsAsync<DigestMismatchException>(() => stream.CopyToAsync(Stream.Null, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<DigestMismatchException>(() => store.ReadBlobBytesAsync(d.Digest, cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Tag_ReplaceAndUntag_UpdatesIndex()
    {
        ContentStore store = ContentStore.Open(_dir.Path);
        Descriptor a = await store.WriteBlobAsync("a"u8.ToArray(), MediaTypes.OciManifest, TestContext.Current.CancellationToken);
        Descriptor b = await store.WriteBlobAsync("b"u8.ToArray(), MediaTypes.OciManifest, TestContext.Current.CancellationToken);
        await store.TagAsync("docker.io/library/app:1", a, TestContext.Current.CancellationToken);
        await store.TagAsync("docker.io/library/app:2", a, TestContext.Current.CancellationToken);
        await store.TagAsync("docker.io/library/app:1", b, TestContext.Current.CancellationToken);
        Assert.Equal(b.Digest, (await store.ResolveAsync("docker.io/library/app:1", TestContext.Current.CancellationToken))!.Digest);
        Assert.Equal(a.Digest, (await store.ResolveAsync("docker.io/library/app:2", TestContext.Current.CancellationToken))!.Digest);
        Assert.True(await store.UntagAsync("docker.io/library/app:2", TestContext.Current.CancellationToken));
        Assert.False(await store.UntagAsync("docker.io/library/app:2", TestContext.Current.CancellationToken));
        Assert.Single(await store.ListNamesAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Tag_ConcurrentFromManyStores_LosesNoName()
    {
        Descriptor target = await ContentStore.Open(_dir.Path).WriteBlobAsync("m"u8.ToArray(), MediaTypes.OciManifest, TestContext.Current.CancellationToken);
        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() =>
            ContentStore.Open(_dir.Path).TagAsync($"app:{i}", target, TestContext.Current.CancellationToken))));
        Assert.Equal(16, (await ContentStore.Open(_dir.Path).ListNamesAsync(TestContext.Current.CancellationToken)).Count);
    }

    [Fact]
    public async Task Tag_MissingBlob_Throws()
    {
        ContentStore store = ContentStore.Open(_dir.Path);
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            store.TagAsync("x", new Descriptor(MediaTypes.OciManifest, Digest.EmptySha256, 0), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task CommitFile_FinishedFile_MovedIntoPlaceAndSourceGone()
    {
        ContentStore store = ContentStore.Open(_dir.Combine("store"));
        string file = _dir.Combine("layer.tmp");
        await File.WriteAllBytesAsync(file, "layer"u8.ToArray(), TestContext.Current.CancellationToken);
        Digest digest = Digest.Compute("layer"u8);
        Descriptor d = await store.CommitFileAsync(file, digest, 5, MediaTypes.OciLayerGzip, TestContext.Current.CancellationToken);
        Assert.Equal(digest, d.Digest);
        Assert.False(File.Exists(file));
        Assert.True(await store.VerifyBlobAsync(digest, TestContext.Current.CancellationToken));

        await File.WriteAllBytesAsync(file, "layer"u8.ToArray(), TestContext.Current.CancellationToken);
        await store.CommitFileAsync(file, digest, 5, MediaTypes.OciLayerGzip, TestContext.Current.CancellationToken); // already stored
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task CommitFile_WrongSize_ThrowsAndStoresNothing()
    {
        ContentStore store = ContentStore.Open(_dir.Combine("store"));
        string file = _dir.Combine("layer.tmp");
        await File.WriteAllBytesAsync(file, "layer"u8.ToArray(), TestContext.Current.CancellationToken);
        Digest digest = Digest.Compute("layer"u8);
        await Assert.ThrowsAsync<InvalidContentException>(() =>
            store.CommitFileAsync(file, digest, 6, MediaTypes.OciLayerGzip, TestContext.Current.CancellationToken));
        Assert.False(store.Contains(digest));
        Assert.False(File.Exists(file));
    }

    /// <summary>Returns data in small pieces so concurrent writers interleave.</summary>
    private sealed class SlowStream(byte[] data) : MemoryStream(data, writable: false)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, 64 * 1024)], cancellationToken);
        }
    }
}
