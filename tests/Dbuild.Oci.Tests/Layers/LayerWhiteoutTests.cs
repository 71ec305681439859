using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Oci.Tests.Layers;

/// <summary>Whiteouts and opaque directories across layers, unpacked as umoci (Go's archive/tar) unpacks the same image.</summary>
public sealed class LayerWhiteoutTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExtractAsync_WhiteoutsAndOpaqueDirectoryFromPython_UnpacksAsUmoci()
    {
        using var temp = new TempDirectory();
        UmociImage image = await UmociImage.CreateAsync(temp.Combine("layout"), Token);
        await image.AddLayerAsync(await RealTars.WhiteoutBaseLayerAsync(temp.Path, Token), Token);
        string upper = temp.Combine("upper.tar");
        await RealTars.PythonAsync(upper, "PAX",
        [
            new("a/", '5', Mode: 0b111_101_101), new("a/.wh.b"), new("a/c2", Data: "new in a"), new(".wh.d"), new("o/", '5', Mode: 0b111_000_000),
            new("o/new", Data: "after the opaque marker"), new("o/.wh..wh..opq"), new(".wh.never-existed"), new("p/", '5', Mode: 0b111_101_101),
            new("p/.wh..wh..opq"), new("d", Data: "d is a file now"),
        ], Token);
        await image.AddLayerAsync(upper, Token);

        await AssertUnpacksAsUmociAsync(image, temp);
    }

    [Fact]
    public async Task ExtractAsync_LayersUmociRepackWrote_UnpacksAsUmoci()
    {
        using var temp = new TempDirectory();
        UmociImage image = await UmociImage.WithRepackedChangesAsync(temp.Path, Token);

        IReadOnlyList<string> layers = await image.LayerPathsAsync(Token);
        Assert.Equal(2, layers.Count);
        await using (FileStream repacked = File.OpenRead(layers[1]))
        {
            Assert.Contains(await LayerWriterTests.ToListAsync(LayerReader.ReadEntriesAsync(repacked, Token)), e => e.IsWhiteout);
        }
        await AssertUnpacksAsUmociAsync(image, temp);
    }

    private static async Task AssertUnpacksAsUmociAsync(UmociImage image, TempDirectory temp)
    {
        SortedDictionary<string, FileView> expected = await TreeView.FromDirectoryAsync(await image.UnpackAsync(temp.Combine("oracle"), Token), Token);
        string ours = temp.Combine("ours");
        foreach (string layer in await image.LayerPathsAsync(Token))
        {
            await using FileStream blob = File.OpenRead(layer);
            await LayerExtractor.ExtractAsync(blob, ours, cancellationToken: Token);
        }
        SortedDictionary<string, FileView> actual = await TreeView.FromDirectoryAsync(ours, Token);
        Assert.Empty(TreeView.Differences(expected, actual, TreeView.Compare.Mode | TreeView.Compare.Owners));
    }
}
