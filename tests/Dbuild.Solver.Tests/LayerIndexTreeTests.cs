using System.IO.Compression;
using System.Security.Cryptography;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>
/// COPY --from's view of a source's layers (<see cref="LayerIndexTree"/>), on layers real writers made: plain tars read
/// in place, gzip layers unpacked below the wanted paths. It must accept and refuse what the layer reader does, and show
/// what GNU tar or umoci unpack.
/// </summary>
public sealed class LayerIndexTreeTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, bool> AcceptedCases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in TarCases.Accepted)
        {
            data.Add(name, false);
            data.Add(name, true);
        }
        return data;
    }

    public static TheoryData<string> RefusedCases => new(TarCases.Refused);

    [Theory]
    [MemberData(nameof(AcceptedCases))]
    public async Task BuildAsync_RealWritersLayer_ShowsWhatGnuTarExtracts(string name, bool gzip)
    {
        using var temp = new TempDirectory();
        (string tar, string? oracle) = await TarCases.BuildAsync(name, temp.Path, Token);
        await RealTars.GnuExtractAsync(oracle!, temp.Combine("gnu"), Token);
        // COPY --from copies no devices or FIFOs, and reads whiteouts as deletions.
        var expected = new SortedDictionary<string, FileView>((await TreeView.FromDirectoryAsync(temp.Combine("gnu"), Token))
            .Where(p => p.Value.Type is not (LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice or LayerEntryType.Fifo) && !p.Key.Contains(".wh.", StringComparison.Ordinal))
            .ToDictionary(), StringComparer.Ordinal);
        var store = ContentStore.Open(temp.Combine("store"));
        LayerRef layer = await AddLayerAsync(store, tar, gzip, temp);

        LayerIndexTree tree = await LayerIndexTree.BuildAsync(store, [layer], [""], temp.Combine("tmp"), "stage test", Token);

        SortedDictionary<string, FileView> actual = await ViewAsync(tree);
        Assert.Empty(TreeView.Differences(expected.WithImplicitFrom(actual), actual, TreeView.Compare.Mode | TreeView.Compare.Owners));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BuildAsync_WantedHardLinkToAFileOutsideTheWantedPaths_ReadsItsTarget(bool gzip)
    {
        using var temp = new TempDirectory();
        string tar = temp.Combine("links.tar");
        await RealTars.PythonAsync(tar, "PAX", [new("d/", '5', Mode: 0b111_101_101), new("d/x", Data: "target bytes"), new("w/", '5', Mode: 0b111_101_101),
            new("w/h", '1', Link: "/d/x")], Token);
        var store = ContentStore.Open(temp.Combine("store"));

        LayerIndexTree tree = await LayerIndexTree.BuildAsync(store, [await AddLayerAsync(store, tar, gzip, temp)], ["w"], temp.Combine("tmp"), "stage test", Token);

        SourceFile link = tree.Stat("w/h")!;
        await using Stream content = tree.OpenContent(link);
        Assert.Equal("target bytes", await new StreamReader(content).ReadToEndAsync(Token));
    }

    [Fact]
    public async Task BuildAsync_UmociLayersWithWhiteouts_ShowsWhatUmociUnpacks()
    {
        using var temp = new TempDirectory();
        UmociImage image = await UmociImage.WithRepackedChangesAsync(temp.Path, Token);
        SortedDictionary<string, FileView> expected = await TreeView.FromDirectoryAsync(await image.UnpackAsync(temp.Combine("oracle"), Token), Token);
        var store = ContentStore.Open(temp.Combine("store"));
        var layers = new List<LayerRef>();
        foreach (string blob in await image.LayerPathsAsync(Token)) { layers.Add(await AddLayerAsync(store, blob, gzip: false, temp)); }

        LayerIndexTree tree = await LayerIndexTree.BuildAsync(store, layers, [""], temp.Combine("tmp"), "image umoci", Token);

        Assert.Empty(TreeView.Differences(expected, await ViewAsync(tree), TreeView.Compare.Mode | TreeView.Compare.Owners));
    }

    [Theory]
    [MemberData(nameof(RefusedCases))]
    public async Task BuildAsync_RefusedLayer_ThrowsAsTheLayerReaderDoes(string name)
    {
        using var temp = new TempDirectory();
        (string tar, _) = await TarCases.BuildAsync(name, temp.Path, Token);
        (Type type, string message) = TarCases.Expected(name);
        var store = ContentStore.Open(temp.Combine("store"));
        foreach (bool gzip in new[] { false, true })
        {
            LayerRef layer = await AddLayerAsync(store, tar, gzip, temp);
            Exception error = await Assert.ThrowsAnyAsync<Exception>(() => LayerIndexTree.BuildAsync(store, [layer], [""], temp.Combine("tmp"), "stage test", Token));
            Assert.IsType(type, error);
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Stores a tar as a layer blob, gzip-compressed when asked (a blob already compressed is stored as is).</summary>
    private static async Task<LayerRef> AddLayerAsync(ContentStore store, string tar, bool gzip, TempDirectory temp)
    {
        string blob = tar;
        if (LayerReader.DetectCompression(await File.ReadAllBytesAsync(tar, Token)) != LayerCompression.None)
        {
            if (gzip) { return await AddAsync(store, tar); }
            blob = temp.Combine(Path.GetFileName(tar) + ".plain");
            await using FileStream output = File.Create(blob);
            await using FileStream compressed = File.OpenRead(tar);
            await using Stream plain = await LayerReader.OpenDecompressedAsync(compressed, cancellationToken: Token);
            await plain.CopyToAsync(output, Token);
        }
        else if (gzip)
        {
            blob = temp.Combine(Path.GetFileName(tar) + ".gz");
            await using FileStream output = File.Create(blob);
            await using var compressor = new GZipStream(output, CompressionLevel.Fastest);
            await using FileStream input = File.OpenRead(tar);
            await input.CopyToAsync(compressor, Token);
        }
        return await AddAsync(store, blob);
    }

    private static async Task<LayerRef> AddAsync(ContentStore store, string blob)
    {
        await using FileStream content = File.OpenRead(blob);
        Descriptor descriptor = await store.WriteBlobAsync(content, MediaTypes.OciLayerGzip, cancellationToken: Token);
        return new LayerRef(descriptor, Digest.EmptySha256);
    }

    private static async Task<SortedDictionary<string, FileView>> ViewAsync(LayerIndexTree tree)
    {
        var view = new SortedDictionary<string, FileView>(StringComparer.Ordinal);
        foreach (SourceFile file in tree.Walk(""))
        {
            string? sha = null;
            if (file.Type == LayerEntryType.File)
            {
                await using Stream content = tree.OpenContent(file);
                sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(content, Token));
            }
            view[file.RelativePath] = new FileView(file.Type, file.Type == LayerEntryType.Symlink ? 0 : file.Mode, file.Uid, file.Gid,
                file.Type == LayerEntryType.File ? file.Size : 0, sha, file.Type == LayerEntryType.Symlink ? file.LinkTarget : null, file.ModificationTime, 0, 0);
        }
        return view;
    }
}
