using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>
/// ADD's auto-extraction of local archives: the same tars as layers are accepted and refused (one reader), unpacked as
/// GNU tar unpacks them, whatever the compression; what Go's tar reader cannot open is copied as a file, as BuildKit does.
/// </summary>
public sealed class ArchiveExpanderTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> AcceptedCases()
    {
        var data = new TheoryData<string, string>();
        foreach (string name in TarCases.Accepted) { data.Add(name, "none"); }
        foreach (string compression in new[] { "gzip", "bzip2", "xz", "zstd" }) { data.Add("gnu-tar pax", compression); }
        return data;
    }

    public static TheoryData<string> RefusedCases => new(TarCases.Refused.Where(n => n != "not a tar"));

    [Theory]
    [MemberData(nameof(AcceptedCases))]
    public async Task ExpandAsync_RealWritersArchive_UnpacksWhatGnuTarExtracts(string name, string compression)
    {
        using var temp = new TempDirectory();
        (string tar, string? oracle) = await TarCases.BuildAsync(name, temp.Path, Token);
        await RealTars.GnuExtractAsync(oracle!, temp.Combine("gnu"), Token);
        var expected = new SortedDictionary<string, FileView>((await TreeView.FromDirectoryAsync(temp.Combine("gnu"), Token))
            .Where(p => p.Value.Type is not (LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice or LayerEntryType.Fifo)).ToDictionary(), StringComparer.Ordinal);
        string archive = compression == "none" ? tar : await CompressAsync(tar, compression);

        IReadOnlyList<LayerEntry> expanded = await ArchiveExpander.ExpandAsync([Source(archive)], "/ignored", temp.Combine("tmp"), Token);

        SortedDictionary<string, FileView> actual = await TreeView.FromEntriesAsync(Async(expanded), Token);
        Assert.Empty(TreeView.Differences(expected.WithImplicitFrom(actual), actual, TreeView.Compare.Mode | TreeView.Compare.Owners | TreeView.Compare.Times));
    }

    [Theory]
    [MemberData(nameof(RefusedCases))]
    public async Task ExpandAsync_RefusedArchive_ThrowsAsTheLayerReaderDoes(string name)
    {
        using var temp = new TempDirectory();
        (string tar, _) = await TarCases.BuildAsync(name, temp.Path, Token);
        (Type type, string message) = TarCases.Expected(name);

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => ArchiveExpander.ExpandAsync([Source(tar)], "/ignored", temp.Combine("tmp"), Token));

        Assert.IsType(type, error);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)] // empty: Go's first Next is io.EOF
    [InlineData(1024)] // only end-of-archive blocks
    [InlineData(-1)] // not a tar header
    public async Task ExpandAsync_NotSomethingGoCanReadAsATar_CopiedAsAFile(int zeros)
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("data.tar");
        await File.WriteAllBytesAsync(file, zeros >= 0 ? new byte[zeros] : RealTars.Bytes(4096, 9), Token);

        LayerEntry entry = Assert.Single(await ArchiveExpander.ExpandAsync([Source(file)], "/ignored", temp.Combine("tmp"), Token));

        Assert.Equal(("data.tar", LayerEntryType.File), (entry.Path, entry.Type));
    }

    private static LayerEntry Source(string path) => new()
    {
        Path = Path.GetFileName(path),
        Type = LayerEntryType.File,
        Mode = (UnixFileMode)0b110_100_100,
        Size = new FileInfo(path).Length,
        OpenContent = () => File.OpenRead(path),
    };

    private static async Task<string> CompressAsync(string tar, string tool)
    {
        (await ProcessRunner.RunAsync(tool, ["-k", "-f", tar], Token)).EnsureSuccess();
        return tar + tool switch { "gzip" => ".gz", "bzip2" => ".bz2", "xz" => ".xz", _ => ".zst" };
    }

    private static async IAsyncEnumerable<LayerEntry> Async(IEnumerable<LayerEntry> entries)
    {
        foreach (LayerEntry entry in entries) { yield return entry; }
        await Task.CompletedTask;
    }
}
