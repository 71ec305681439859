using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Runtime.Tests;

/// <summary>Whiteout conversion both ways with the real Linux file operations (mknod and trusted xattrs need root).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LayerRoundTripTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<MemoryStream> LayerAsync(params LayerEntry[] entries)
    {
        var blob = new MemoryStream();
        await LayerWriter.WriteAsync(entries, blob, cancellationToken: Token);
        blob.Position = 0;
        return blob;
    }

    private static LayerEntry Dir(string path) => new() { Path = path, Type = LayerEntryType.Directory, Mode = (UnixFileMode)0x1ED };

    [Fact]
    public async Task Extract_OverlayMode_WhiteoutsBecomeDevicesAndOpaqueXattr_AndScanTurnsThemBack()
    {
        Prerequisites.RequireRoot("mknod and trusted.* xattrs");
        using var temp = new TempDirectory();
        using MemoryStream blob = await LayerAsync(Dir("a"), LayerEntry.Whiteout("a/gone"), Dir("o"), LayerEntry.OpaqueWhiteout("o"),
            new LayerEntry { Path = "o/f", Type = LayerEntryType.File, Mode = (UnixFileMode)0x1A4, Uid = 7, Gid = 8 });
        await LayerExtractor.ExtractAsync(blob, temp.Path, new LayerExtractOptions { Whiteouts = WhiteoutHandling.Overlay, FileSystem = LinuxLayerFileSystem.Instance }, Token);

        LayerFileStatus gone = LinuxLayerFileSystem.Instance.GetStatus(temp.Combine("a", "gone"));
        Assert.Equal((LayerEntryType.CharacterDevice, 0, 0), (gone.Type, gone.DeviceMajor, gone.DeviceMinor));
        Assert.Equal("y"u8.ToArray(), LinuxLayerFileSystem.Instance.GetExtendedAttributes(temp.Combine("o"))["trusted.overlay.opaque"]);
        Assert.Equal((7, 8), (LinuxLayerFileSystem.Instance.GetStatus(temp.Combine("o", "f")).Uid, LinuxLayerFileSystem.Instance.GetStatus(temp.Combine("o", "f")).Gid));

        IReadOnlyList<LayerEntry> scanned = DirectoryLayerScanner.Scan(temp.Path, new DirectoryScanOptions { FileSystem = LinuxLayerFileSystem.Instance, OverlayWhiteouts = true });
        Assert.Equal(["a", "a/.wh.gone", "o", "o/.wh..wh..opq", "o/f"], scanned.Select(e => e.Path));
        Assert.Null(scanned.Single(e => e.Path == "o").ExtendedAttributes); // overlay's own xattrs never reach a layer
    }

    [Fact]
    public async Task Scan_HardLinks_DetectedByInode()
    {
        using var temp = new TempDirectory();
        await File.WriteAllTextAsync(temp.Combine("b"), "data", Token);
        LinuxLayerFileSystem.Instance.CreateHardLink(temp.Combine("b"), temp.Combine("a"));
        IReadOnlyList<LayerEntry> scanned = DirectoryLayerScanner.Scan(temp.Path, new DirectoryScanOptions { FileSystem = LinuxLayerFileSystem.Instance });
        Assert.Equal((LayerEntryType.File, 4L), (scanned[0].Type, scanned[0].Size));
        Assert.Equal((LayerEntryType.HardLink, "a"), (scanned[1].Type, scanned[1].LinkTarget));
    }

    [Fact]
    public async Task Extract_WithLinuxFileSystem_KeepsOwnersXattrsHardLinksAndMtime()
    {
        Prerequisites.RequireRoot("chown");
        using var temp = new TempDirectory();
        var mtime = DateTimeOffset.FromUnixTimeSeconds(1_600_000_000);
        byte[] content = "abc"u8.ToArray();
        using MemoryStream blob = await LayerAsync(
            new LayerEntry { Path = "f", Type = LayerEntryType.File, Mode = (UnixFileMode)0x9ED, Uid = 1000, Gid = 1001, ModificationTime = mtime, Size = 3, OpenContent = () => new MemoryStream(content),
                ExtendedAttributes = new Dictionary<string, byte[]> { ["user.k"] = "v"u8.ToArray() } },
            new LayerEntry { Path = "g", Type = LayerEntryType.HardLink, LinkTarget = "f" },
            new LayerEntry { Path = "s", Type = LayerEntryType.Symlink, LinkTarget = "/nowhere", Uid = 5, Gid = 6, ModificationTime = mtime });
        await LayerExtractor.ExtractAsync(blob, temp.Path, new LayerExtractOptions { FileSystem = LinuxLayerFileSystem.Instance }, Token);
        LayerFileStatus f = LinuxLayerFileSystem.Instance.GetStatus(temp.Combine("f"));
        Assert.Equal(((UnixFileMode)0x9ED, 1000, 1001, mtime, 2L), (f.Mode, f.Uid, f.Gid, f.ModificationTime, f.LinkCount));
        Assert.Equal("v"u8.ToArray(), LinuxLayerFileSystem.Instance.GetExtendedAttributes(temp.Combine("f"))["user.k"]);
        LayerFileStatus s = LinuxLayerFileSystem.Instance.GetStatus(temp.Combine("s"));
        Assert.Equal((LayerEntryType.Symlink, 5, 6, mtime), (s.Type, s.Uid, s.Gid, s.ModificationTime));
    }
}
