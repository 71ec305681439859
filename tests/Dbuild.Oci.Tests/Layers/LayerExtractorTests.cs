using System.Formats.Tar;
using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Oci.Tests.Layers;

public sealed class LayerExtractorTests
{
    private static MemoryStream HostileTar(params TarEntry[] entries)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (TarEntry entry in entries) { writer.WriteEntry(entry); }
        }
        stream.Position = 0;
        return stream;
    }

    private static PaxTarEntry F(string name) => new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream("pwned"u8.ToArray()) };
    private static PaxTarEntry D(string name) => new(TarEntryType.Directory, name) { Mode = (UnixFileMode)0x1ED };
    private static PaxTarEntry S(string name, string target) => new(TarEntryType.SymbolicLink, name) { LinkName = target };
    private static PaxTarEntry H(string name, string target) => new(TarEntryType.HardLink, name) { LinkName = target };

    public static TheoryData<string, TarEntry[]> Hostile() => new()
    {
        { "path traversal", [F("../evil")] },
        { "traversal inside the name", [D("a"), F("a/../../evil")] },
        { "hardlink out of the root", [H("h", "../outside")] },
        { "absolute hardlink to a file the layer does not have", [H("h", "/etc/passwd")] },
        { "hardlink to nothing", [H("h", "missing")] },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task ExtractAsync_HostileTar_RefusedAndNothingOutside(string why, TarEntry[] entries)
    {
        using var temp = new TempDirectory();
        string root = temp.Combine("a", "b", "root");
        using MemoryStream tar = HostileTar(entries);
        var error = await Assert.ThrowsAsync<UnsafeLayerEntryException>(() => LayerExtractor.ExtractAsync(tar, root, cancellationToken: TestContext.Current.CancellationToken));
        Assert.False(string.IsNullOrEmpty(error.EntryName), why);
        Assert.False(File.Exists(temp.Combine("a", "b", "evil")), why);
        Assert.False(File.Exists(temp.Combine("a", "evil")), why);
        Assert.False(File.Exists(temp.Combine("a", "b", "outside")), why);
    }

    /// <summary>As containerd (continuity's fs.RootPath) does: names and symlinks are resolved as if the root were '/'.</summary>
    public static TheoryData<string, TarEntry[], string> Contained() => new()
    {
        { "absolute path", [F("/tmp/dbuild-evil")], "tmp/dbuild-evil" },
        { "absolute symlink, then a write through it", [S("link", "/tmp"), F("link/dbuild-evil")], "tmp/dbuild-evil" },
        { "relative symlink leaving the root, then a write through it", [S("up", "../../../../tmp"), F("up/dbuild-evil")], "tmp/dbuild-evil" },
        { "symlink chain leaving the root", [D("a"), S("a/b", ".."), S("a/c", "b/../x"), F("a/c/dbuild-evil")], "x/dbuild-evil" },
        { "rooted dot-dot", [F("/../../dbuild-evil")], "dbuild-evil" },
    };

    [Theory]
    [MemberData(nameof(Contained))]
    public async Task ExtractAsync_EscapingNameOrSymlink_LandsInsideTheRoot(string why, TarEntry[] entries, string inside)
    {
        using var temp = new TempDirectory();
        string root = temp.Combine("a", "b", "root");
        using MemoryStream tar = HostileTar(entries);
        await LayerExtractor.ExtractAsync(tar, root, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("pwned", await File.ReadAllTextAsync(Path.Combine(root, inside), TestContext.Current.CancellationToken));
        Assert.False(File.Exists("/tmp/dbuild-evil"), why);
        Assert.Equal(["root"], Directory.GetFileSystemEntries(temp.Combine("a", "b")).Select(Path.GetFileName));
        Assert.Equal(["b"], Directory.GetFileSystemEntries(temp.Combine("a")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ExtractAsync_RelativeSymlinkInsideRoot_WritesThroughIt()
    {
        using var temp = new TempDirectory();
        using MemoryStream tar = HostileTar(D("real"), S("alias", "real"), F("alias/file"), D("x"), S("x/up", "../real"), F("x/up/second"));
        await LayerExtractor.ExtractAsync(tar, temp.Path, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(File.Exists(temp.Combine("real", "file")));
        Assert.True(File.Exists(temp.Combine("real", "second")));
    }

    [Fact]
    public async Task ExtractAsync_DeviceNodeWhenNotAllowed_SkippedAsContainerdDoesInAUserNamespace()
    {
        using var temp = new TempDirectory();
        using MemoryStream tar = HostileTar(new PaxTarEntry(TarEntryType.CharacterDevice, "dev/null") { DeviceMajor = 1, DeviceMinor = 3 }, F("dev/after"));
        LayerExtractResult result = await LayerExtractor.ExtractAsync(tar, temp.Path, new LayerExtractOptions { AllowDeviceNodes = false }, TestContext.Current.CancellationToken);
        Assert.Equal(1, result.SkippedDeviceNodes);
        Assert.False(File.Exists(temp.Combine("dev", "null")));
        Assert.True(File.Exists(temp.Combine("dev", "after")));
    }

    [Fact]
    public async Task ExtractAsync_WhiteoutsApplied_DeleteFileDirAndOpaqueContents()
    {
        using var temp = new TempDirectory();
        using (MemoryStream lower = HostileTar(D("a"), F("a/b"), F("a/c"), D("d"), F("d/inner"), D("o"), F("o/old")))
        {
            await LayerExtractor.ExtractAsync(lower, temp.Path, cancellationToken: TestContext.Current.CancellationToken);
        }
        using (MemoryStream upper = HostileTar(F("a/.wh.b"), F(".wh.d"), F("o/!new"), F("o/.wh..wh..opq"), F("o/zz")))
        {
            await LayerExtractor.ExtractAsync(upper, temp.Path, cancellationToken: TestContext.Current.CancellationToken);
        }
        Assert.False(File.Exists(temp.Combine("a", "b")));
        Assert.True(File.Exists(temp.Combine("a", "c")));
        Assert.False(Directory.Exists(temp.Combine("d")));
        Assert.Equal(["!new", "zz"], Directory.GetFileSystemEntries(temp.Combine("o")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ExtractAsync_WhiteoutsKept_AreFiles()
    {
        using var temp = new TempDirectory();
        using MemoryStream tar = HostileTar(F(".wh.gone"));
        await LayerExtractor.ExtractAsync(tar, temp.Path, new LayerExtractOptions { Whiteouts = WhiteoutHandling.Keep }, TestContext.Current.CancellationToken);
        Assert.True(File.Exists(temp.Combine(".wh.gone")));
    }

    [Fact]
    public async Task ExtractAsync_ReplacesFileByDirAndSymlinkByFile_WithoutFollowing()
    {
        using var temp = new TempDirectory();
        string outside = temp.Combine("outside");
        Directory.CreateDirectory(outside);
        string root = temp.Combine("root");
        using (MemoryStream lower = HostileTar(F("x"), S("s", "x")))
        {
            await LayerExtractor.ExtractAsync(lower, root, cancellationToken: TestContext.Current.CancellationToken);
        }
        using (MemoryStream upper = HostileTar(D("x"), F("s")))
        {
            await LayerExtractor.ExtractAsync(upper, root, cancellationToken: TestContext.Current.CancellationToken);
        }
        Assert.True(Directory.Exists(Path.Combine(root, "x")));
        Assert.Null(new FileInfo(Path.Combine(root, "s")).LinkTarget);
    }

    [Fact]
    public async Task ExtractAsync_WrongExpectedDiffId_Throws()
    {
        using var temp = new TempDirectory();
        using MemoryStream tar = HostileTar(F("a"));
        await Assert.ThrowsAsync<DigestMismatchException>(() => LayerExtractor.ExtractAsync(tar, temp.Path,
            new LayerExtractOptions { ExpectedDiffId = Digest.EmptySha256 }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ExtractAsync_DiffIdIsSha256OfWholeTar()
    {
        using var temp = new TempDirectory();
        using MemoryStream tar = HostileTar(F("a"), D("b"));
        Digest expected = Digest.Compute(tar.ToArray());
        LayerExtractResult result = await LayerExtractor.ExtractAsync(tar, temp.Path, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(expected, result.DiffId);
        Assert.Equal(LayerCompression.None, result.Compression);
    }

    [Theory]
    [InlineData(new byte[] { 0x1f, 0x8b, 8, 0 }, LayerCompression.Gzip)]
    [InlineData(new byte[] { 0x28, 0xb5, 0x2f, 0xfd }, LayerCompression.Zstd)]
    [InlineData(new byte[] { (byte)'e', (byte)'t', (byte)'c' }, LayerCompression.None)]
    [InlineData(new byte[0], LayerCompression.None)]
    public void DetectCompression_MagicBytes(byte[] prefix, LayerCompression expected) =>
        Assert.Equal(expected, LayerReader.DetectCompression(prefix));
}
