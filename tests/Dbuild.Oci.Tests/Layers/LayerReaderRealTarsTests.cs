using System.Security.Cryptography;
using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Oci.Tests.Layers;

/// <summary>
/// Tars from real writers (GNU tar in every format, python's tarfile, busybox, umoci, tars cut short with head -c): every
/// reader accepts the same ones and reads them as GNU tar extracts them, and refuses the same ones, saying why.
/// </summary>
public sealed class LayerReaderRealTarsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string> AcceptedCases => new(TarCases.Accepted);

    public static TheoryData<string> RefusedCases => new(TarCases.Refused);

    [Theory]
    [MemberData(nameof(AcceptedCases))]
    public async Task ReadAsync_RealWritersTar_ReadsWhatGnuTarExtracts(string name)
    {
        using var temp = new TempDirectory();
        (string tar, string? oracle) = await TarCases.BuildAsync(name, temp.Path, Token);
        SortedDictionary<string, FileView> expected = await GnuExtractedAsync(oracle!, temp.Combine("gnu"));

        await using FileStream blob = File.OpenRead(tar);
        SortedDictionary<string, FileView> actual = await TreeView.FromEntriesAsync(LayerReader.ReadAsync(blob, Token), Token);

        Assert.Empty(TreeView.Differences(expected.WithImplicitFrom(actual), actual, TreeView.Compare.All));
    }

    [Theory]
    [MemberData(nameof(AcceptedCases))]
    public async Task ExtractAsync_RealWritersTar_UnpacksWhatGnuTarExtracts(string name)
    {
        using var temp = new TempDirectory();
        (string tar, string? oracle) = await TarCases.BuildAsync(name, temp.Path, Token);
        SortedDictionary<string, FileView> expected = await GnuExtractedAsync(oracle!, temp.Combine("gnu"));
        string ours = temp.Combine("ours");

        await using (FileStream blob = File.OpenRead(tar))
        {
            await LayerExtractor.ExtractAsync(blob, ours, new LayerExtractOptions { Whiteouts = WhiteoutHandling.Keep }, Token);
        }

        await using FileStream again = File.OpenRead(tar);
        SortedDictionary<string, FileView> view = await TreeView.FromEntriesAsync(LayerReader.ReadAsync(again, Token), Token);
        SortedDictionary<string, FileView> actual = (await TreeView.FromDirectoryAsync(ours, Token)).WithImplicitFrom(view);
        // The portable file system sets no owners and makes hard links copies (with their own times).
        Assert.Empty(TreeView.Differences(expected.WithImplicitFrom(view), actual, TreeView.Compare.Mode | TreeView.Compare.Devices));
    }

    [Theory]
    [MemberData(nameof(AcceptedCases))]
    public async Task IndexAsync_RealWritersTar_OffsetsHoldEachFilesBytes(string name)
    {
        using var temp = new TempDirectory();
        (string tar, _) = await TarCases.BuildAsync(name, temp.Path, Token);
        string plain = temp.Combine("plain.tar");
        await using (FileStream compressed = File.OpenRead(tar))
        {
            await using Stream decompressed = await LayerReader.OpenDecompressedAsync(compressed, cancellationToken: Token); // IndexAsync reads plain tars
            await using FileStream output = File.Create(plain);
            await decompressed.CopyToAsync(output, Token);
        }
        await using FileStream blob = File.OpenRead(plain);
        SortedDictionary<string, FileView> read = await TreeView.FromEntriesAsync(LayerReader.ReadAsync(blob, Token), Token);

        blob.Position = 0;
        var indexed = new Dictionary<string, (LayerEntry Entry, long Offset)>(StringComparer.Ordinal);
        await foreach ((LayerEntry entry, long offset) in LayerReader.IndexAsync(blob, Token)) { indexed[entry.Path] = (entry, offset); }

        Assert.Equal(read.Keys.Where(k => !read[k].Implicit), indexed.Keys.Order(StringComparer.Ordinal));
        foreach ((string path, (LayerEntry entry, long offset)) in indexed.Where(i => i.Value.Entry.Type == LayerEntryType.File))
        {
            if (offset < 0) { Assert.Contains("sparse", path, StringComparison.Ordinal); continue; } // not stored contiguously
            byte[] bytes = new byte[entry.Size];
            blob.Position = offset;
            await blob.ReadExactlyAsync(bytes, Token);
            Assert.Equal(read[path].Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }

    [Theory]
    [MemberData(nameof(RefusedCases))]
    public async Task EveryReader_RefusedTar_ThrowsNamingTheEntryAndTheProblem(string name)
    {
        using var temp = new TempDirectory();
        (string tar, _) = await TarCases.BuildAsync(name, temp.Path, Token);
        (Type type, string message) = TarCases.Expected(name);
        string root = temp.Combine("deep", "er", "root");

        await AssertRefusedAsync(type, message, async () => { await using FileStream b = File.OpenRead(tar); await foreach (LayerEntry _ in LayerReader.ReadEntriesAsync(b, Token)) { } });
        await AssertRefusedAsync(type, message, async () => { await using FileStream b = File.OpenRead(tar); await LayerExtractor.ExtractAsync(b, root, cancellationToken: Token); });
        await AssertRefusedAsync(type, message, async () => { await using FileStream b = File.OpenRead(tar); await foreach (var _ in LayerReader.IndexAsync(b, Token)) { } });
        await AssertRefusedAsync(type, message, async () => { await using FileStream b = File.OpenRead(tar); await LayerReader.ReadFileAsync(b, "zz", 1024, Token); });
        Assert.False(File.Exists(temp.Combine("deep", "er", "evil")) || File.Exists(temp.Combine("deep", "evil")), "nothing is written outside the root");
    }

    [Theory]
    [InlineData("a/x/../up", "a/up")] // an inner '..' that stays inside is resolved, as Go's path.Clean does
    [InlineData("./a/./b/", "a/b")]
    [InlineData("/../../x", "x")] // a rooted name cannot climb above '/'
    [InlineData("//a//b", "a/b")]
    [InlineData("a/b/../../c", "c")]
    public async Task ReadEntriesAsync_NameWithDots_CleanedToARelativePath(string stored, string expected)
    {
        using var temp = new TempDirectory();
        string tar = temp.Combine("t.tar");
        await RealTars.PythonAsync(tar, "PAX", [new RealTars.PyEntry(stored, Data: "x")], Token);
        await using FileStream blob = File.OpenRead(tar);
        LayerEntry entry = Assert.Single(await LayerWriterTests.ToListAsync(LayerReader.ReadEntriesAsync(blob, Token)));
        Assert.Equal(expected, entry.Path);
    }

    private static async Task<SortedDictionary<string, FileView>> GnuExtractedAsync(string oracle, string dir)
    {
        await RealTars.GnuExtractAsync(oracle, dir, Token);
        return await TreeView.FromDirectoryAsync(dir, Token);
    }

    private static async Task AssertRefusedAsync(Type type, string message, Func<Task> read)
    {
        Exception error = await Assert.ThrowsAnyAsync<Exception>(read);
        Assert.IsType(type, error);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
