using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Oci.Tests.Layers;

public sealed class LayerReaderTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadEntriesAsync_BinaryXattr_RoundTripsByteForByte()
    {
        byte[] capability = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe, 0x80, 0x00]; // not valid UTF-8
        var entry = LayerWriterTests.File("bin/ping", "x") with { ExtendedAttributes = new Dictionary<string, byte[]> { ["security.capability"] = capability } };
        using var blob = new MemoryStream();
        await LayerWriter.WriteAsync([entry], blob, cancellationToken: Token);
        blob.Position = 0;
        LayerEntry read = Assert.Single(await LayerWriterTests.ToListAsync(LayerReader.ReadEntriesAsync(blob, Token)));
        Assert.Equal(capability, read.ExtendedAttributes!["security.capability"]);
    }

    [Fact]
    public async Task ReadEntriesAsync_GnuTarXattrs_BinaryValueByteForByte()
    {
        using var temp = new TempDirectory();
        string src = temp.Combine("src");
        Directory.CreateDirectory(src);
        string file = Path.Combine(src, "ping");
        await File.WriteAllTextAsync(file, "x", Token);
        (await ProcessRunner.RunAsync("python3", ["-c", "import os, sys; os.setxattr(sys.argv[1], 'user.bin', bytes([0, 0xff, 0x80, 1, 0x0a]))", file], Token)).EnsureSuccess();
        string tar = temp.Combine("x.tar");
        await RealTars.GnuTarAsync(src, tar, Token, "--format=pax", "--xattrs", "--xattrs-include=user.*");

        await using FileStream blob = File.OpenRead(tar);
        LayerEntry ping = Assert.Single(await LayerWriterTests.ToListAsync(LayerReader.ReadEntriesAsync(blob, Token)), e => e.Path == "ping");
        Assert.Equal([0, 0xff, 0x80, 1, 0x0a], ping.ExtendedAttributes!["user.bin"]);
    }

    [Theory]
    [InlineData("gnu")]
    [InlineData("posix")]
    [InlineData("ustar")]
    public async Task ReadEntriesAsync_TarsFromGnuTar_AllFormats(string format)
    {
        using var temp = new TempDirectory();
        string deep = Path.Combine(temp.Path, "src", string.Join('/', Enumerable.Repeat("long-directory-name", format == "ustar" ? 4 : 9)));
        Directory.CreateDirectory(deep);
        await File.WriteAllTextAsync(Path.Combine(deep, "file.txt"), "content", Token);
        File.CreateSymbolicLink(Path.Combine(temp.Path, "src", "link"), "target");
        string tarPath = temp.Combine("out.tar");
        (await ProcessRunner.RunAsync("tar", ["--format=" + format, "--owner=1234", "--group=5678", "-C", temp.Combine("src"), "-cf", tarPath, "."], Token)).EnsureSuccess();

        await using FileStream tar = File.OpenRead(tarPath);
        List<LayerEntry> entries = await LayerWriterTests.ToListAsync(LayerReader.ReadEntriesAsync(tar, Token));
        string relative = Path.GetRelativePath(temp.Combine("src"), Path.Combine(deep, "file.txt"));
        LayerEntry file = Assert.Single(entries, e => e.Path == relative);
        Assert.Equal((LayerEntryType.File, 7L, 1234, 5678), (file.Type, file.Size, file.Uid, file.Gid));
        Assert.Equal("target", Assert.Single(entries, e => e.Path == "link").LinkTarget);
        Assert.DoesNotContain(entries, e => e.Path.StartsWith("./", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    [InlineData(LayerCompression.None)]
    public async Task ReadFileAsync_SmallFile_LastEntryWinsAndHardLinksReadTheirTarget(LayerCompression compression)
    {
        using var temp = new TempDirectory();
        string tar = temp.Combine("t.tar");
        await RealTars.PythonAsync(tar, "GNU", [new("./etc/", '5'), new("./etc/passwd", Data: "old"), new("./etc/group", Data: "wheel:x:10:"),
            new("etc/passwd", Data: "root:x:0:0::/root:/bin/sh\n"), new("/etc/shadow", '1', Link: "./etc/group")], Token);
        using var blob = new MemoryStream();
        await using (FileStream input = File.OpenRead(tar))
        {
            await LayerWriter.CompressAsync(input, blob, new LayerWriterOptions { Compression = compression }, Token);
        }

        blob.Position = 0;
        Assert.Equal("root:x:0:0::/root:/bin/sh\n", System.Text.Encoding.UTF8.GetString((await LayerReader.ReadFileAsync(blob, "etc/passwd", 4096, Token))!));
        blob.Position = 0;
        Assert.Equal("wheel:x:10:", System.Text.Encoding.UTF8.GetString((await LayerReader.ReadFileAsync(blob, "etc/shadow", 4096, Token))!));
        blob.Position = 0;
        Assert.Null(await LayerReader.ReadFileAsync(blob, "etc/missing", 4096, Token));
        blob.Position = 0;
        await Assert.ThrowsAsync<InvalidDataException>(() => LayerReader.ReadFileAsync(blob, "etc/passwd", 8, Token));
    }

    [Fact]
    public async Task ReadEntriesAsync_NotATar_Throws()
    {
        using var blob = new MemoryStream(new byte[1024].Select((_, i) => (byte)(i % 7 + 1)).ToArray());
        await Assert.ThrowsAsync<InvalidDataException>(async () => await LayerWriterTests.ToListAsync(LayerReader.ReadEntriesAsync(blob, Token)));
    }
}
