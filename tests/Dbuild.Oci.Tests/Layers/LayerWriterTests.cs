using System.Text;
using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Oci.Tests.Layers;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LayerWriterTests
{
    private static readonly DateTimeOffset Mtime = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    internal static LayerEntry File(string path, string content, int mode = 0b110_100_100, int uid = 0, int gid = 0) => new()
    {
        Path = path,
        Type = LayerEntryType.File,
        Mode = (UnixFileMode)mode,
        Uid = uid,
        Gid = gid,
        ModificationTime = Mtime,
        Size = Encoding.UTF8.GetByteCount(content),
        OpenContent = () => new MemoryStream(Encoding.UTF8.GetBytes(content)),
    };

    internal static LayerEntry Dir(string path, int mode = 0b111_101_101) =>
        new() { Path = path, Type = LayerEntryType.Directory, Mode = (UnixFileMode)mode, ModificationTime = Mtime };

    private static List<LayerEntry> Sample() =>
    [
        Dir("etc"),
        File("etc/hostname", "box\n"),
        new LayerEntry { Path = "etc/link", Type = LayerEntryType.Symlink, LinkTarget = "hostname", Mode = (UnixFileMode)0x1FF, ModificationTime = Mtime },
        new LayerEntry { Path = "etc/hard", Type = LayerEntryType.HardLink, LinkTarget = "etc/hostname", Mode = (UnixFileMode)0x1A4, ModificationTime = Mtime },
        File("usr/bin/tool", "#!/bin/sh\n", mode: 0b100_111_101_101, uid: 1000, gid: 1000), // setuid 4755
        Dir("tmp", 0b001_111_111_111), // sticky 1777
        LayerEntry.Whiteout("var/old"),
        LayerEntry.OpaqueWhiteout("opt"),
    ];

    [Fact]
    public async Task WriteAsync_Gzip_DigestIsSha256OfBlobAndDiffIdOfGunzippedTar()
    {
        using var temp = new TempDirectory();
        string blobPath = temp.Combine("layer.tar.gz");
        LayerWriteResult result;
        await using (var blob = new FileStream(blobPath, FileMode.CreateNew))
        {
            result = await LayerWriter.WriteAsync(Sample(), blob, cancellationToken: TestContext.Current.CancellationToken);
        }
        string sha = Prerequisites.RequireTool("sha256sum", "coreutils");
        ProcessResult blobSum = (await ProcessRunner.RunAsync(sha, [blobPath], TestContext.Current.CancellationToken)).EnsureSuccess();
        ProcessResult tarSum = (await ProcessRunner.RunAsync("/bin/sh", ["-c", $"gzip -dc '{blobPath}' | sha256sum"], TestContext.Current.CancellationToken)).EnsureSuccess();
        Assert.Equal("sha256:" + blobSum.StandardOutput.Split(' ')[0], result.Digest.ToString());
        Assert.Equal("sha256:" + tarSum.StandardOutput.Split(' ')[0], result.DiffId.ToString());
        Assert.Equal(new FileInfo(blobPath).Length, result.Size);
        Assert.Equal("application/vnd.oci.image.layer.v1.tar+gzip", result.MediaType);
    }

    [Fact]
    public async Task WriteAsync_RealTarListsEntriesWithModesAndOwners()
    {
        using var temp = new TempDirectory();
        string blobPath = temp.Combine("layer.tar");
        await using (var blob = new FileStream(blobPath, FileMode.CreateNew))
        {
            await LayerWriter.WriteAsync(Sample(), blob, new LayerWriterOptions { Compression = LayerCompression.None }, TestContext.Current.CancellationToken);
        }
        ProcessResult list = (await ProcessRunner.RunAsync("tar", ["--numeric-owner", "-tvf", blobPath], TestContext.Current.CancellationToken)).EnsureSuccess();
        string[] lines = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, lines.Length); // entries are written as given, no implied parents
        Assert.Contains(lines, l => l.StartsWith("-rwsr-xr-x 1000/1000", StringComparison.Ordinal) && l.EndsWith("usr/bin/tool", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("drwxrwxrwt 0/0", StringComparison.Ordinal) && l.EndsWith("tmp/", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("hrw-r--r--", StringComparison.Ordinal) && l.EndsWith("etc/hostname link to etc/hard", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("etc/link -> hostname", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("opt/.wh..wh..opq", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WriteAsync_SameEntriesInAnyOrder_SameDigest()
    {
        List<LayerEntry> entries = Sample();
        List<LayerEntry> reversed = [.. Enumerable.Reverse(Sample())];
        using var first = new MemoryStream();
        using var second = new MemoryStream();
        LayerWriteResult a = await LayerWriter.WriteAsync(entries, first, cancellationToken: TestContext.Current.CancellationToken);
        LayerWriteResult b = await LayerWriter.WriteAsync(reversed, second, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(a.Digest, b.Digest);
        Assert.Equal(a.DiffId, b.DiffId);
        Assert.Equal(first.ToArray(), second.ToArray());
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    [InlineData(LayerCompression.None)]
    public async Task WriteAsync_AnyCompression_SameDiffIdAndReadsBack(LayerCompression compression)
    {
        using var reference = new MemoryStream();
        LayerWriteResult plain = await LayerWriter.WriteAsync(Sample(), reference, new LayerWriterOptions { Compression = LayerCompression.None }, TestContext.Current.CancellationToken);
        using var blob = new MemoryStream();
        LayerWriteResult result = await LayerWriter.WriteAsync(Sample(), blob, new LayerWriterOptions { Compression = compression }, TestContext.Current.CancellationToken);
        Assert.Equal(plain.DiffId, result.DiffId);
        Assert.Equal(compression == LayerCompression.None, result.Digest == result.DiffId);
        blob.Position = 0;
        var paths = new List<string>();
        await foreach (LayerEntry entry in LayerReader.ReadEntriesAsync(blob, TestContext.Current.CancellationToken)) { paths.Add(entry.Path); }
        Assert.Equal(Sample().Select(e => e.Path).Order(StringComparer.Ordinal), paths);
    }

    [Fact]
    public async Task Write_WithoutDigests_SameBytesAndSizes_DigestsDefault()
    {
        using var hashed = new MemoryStream();
        using var unhashed = new MemoryStream();
        var options = new LayerWriterOptions { Compression = LayerCompression.None };
        LayerWriteResult with = await LayerWriter.WriteAsync(Sample(), hashed, options, TestContext.Current.CancellationToken);
        LayerWriteResult without = await LayerWriter.WriteAsync(Sample(), unhashed, options with { ComputeDigests = false }, TestContext.Current.CancellationToken);

        Assert.Equal(hashed.ToArray(), unhashed.ToArray());
        Assert.Equal((with.Size, with.UncompressedSize), (without.Size, without.UncompressedSize));
        Assert.Equal(Digest.Compute(hashed.ToArray()), with.Digest);
        Assert.Equal(default, without.Digest);
        Assert.Equal(default, without.DiffId);
    }

    [Fact]
    public void ParallelGzip_IsIncompressible_RandomYes_TextBase64AndSmallNo()
    {
        byte[] noise = new byte[1024 * 1024];
        new Random(5).NextBytes(noise);
        byte[] text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("COPY src/ /app/src # a line of text\n", 30_000)));
        byte[] base64 = System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(noise))[..noise.Length]; // deflates to ~75%
        Assert.True(ParallelGzipStream.IsIncompressible(noise));
        Assert.False(ParallelGzipStream.IsIncompressible(text));
        Assert.False(ParallelGzipStream.IsIncompressible(base64));
        Assert.False(ParallelGzipStream.IsIncompressible(noise.AsSpan(0, 32 * 1024))); // too small to judge: compress as asked
    }

    [Fact]
    public void ParallelGzip_Choose_TarOfRandomFiles_StoredAtFastLevels_DeflatedWhenHigherAsked()
    {
        // A tar block of 20 KiB random files: headers and padding are what deflate finds (~3%), not worth level 2's time.
        var rng = new Random(7);
        using var tar = new MemoryStream();
        while (tar.Length < 1024 * 1024)
        {
            byte[] header = new byte[512];
            System.Text.Encoding.ASCII.GetBytes($"assets/m{tar.Length % 50:00}/f{tar.Length}.dat").CopyTo(header, 0);
            tar.Write(header);
            byte[] body = new byte[20_000 + rng.Next(2000)];
            rng.NextBytes(body);
            tar.Write(body);
            tar.Write(new byte[(512 - body.Length % 512) % 512]);
        }
        byte[] block = tar.ToArray()[..(1024 * 1024)];

        Assert.Equal(0, ParallelGzipStream.Choose(block, 2).CompressionLevel);
        Assert.Equal(9, ParallelGzipStream.Choose(block, 9).CompressionLevel);
    }

    [Fact]
    public void ParallelGzip_Choose_HuffmanOnlyForBase64_StringMatchingForText_LevelKept()
    {
        byte[] noise = new byte[1024 * 1024];
        new Random(5).NextBytes(noise);
        byte[] base64 = System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(noise))[..noise.Length];
        byte[] text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("COPY src/ /app/src # a line of text\n", 30_000)));

        var forBase64 = ParallelGzipStream.Choose(base64, 6);
        var forText = ParallelGzipStream.Choose(text, 6);

        Assert.Equal(System.IO.Compression.ZLibCompressionStrategy.HuffmanOnly, forBase64.CompressionStrategy);
        Assert.Equal(6, forBase64.CompressionLevel);
        Assert.Equal(System.IO.Compression.ZLibCompressionStrategy.Default, forText.CompressionStrategy);
        Assert.Equal(6, forText.CompressionLevel);
        Assert.Equal(0, ParallelGzipStream.Choose(noise, 6).CompressionLevel);
    }

    [Fact]
    public async Task WriteAsync_ParallelGzip_Base64Content_HuffmanBlocksStayValidGzip()
    {
        byte[] noise = new byte[3 * 1024 * 1024];
        new Random(9).NextBytes(noise);
        byte[] base64 = System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(noise));
        var entries = new List<LayerEntry>
        {
            new() { Path = "data.b64", Type = LayerEntryType.File, Mode = (UnixFileMode)0x1A4, Size = base64.Length, OpenContent = () => new MemoryStream(base64) },
        };
        using var blob = new MemoryStream();

        LayerWriteResult result = await LayerWriter.WriteAsync(entries, blob, new LayerWriterOptions { Parallelism = 2, CompressionLevel = 2 }, TestContext.Current.CancellationToken);

        Assert.InRange(result.Size, result.UncompressedSize * 70 / 100, result.UncompressedSize * 80 / 100); // base64 deflates to ~75%
        blob.Position = 0;
        using var gunzip = new System.IO.Compression.GZipStream(blob, System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal(result.DiffId, await Digest.ComputeAsync(gunzip, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WriteAsync_ParallelGzip_RandomContent_StoredBlocksStayValidGzip()
    {
        byte[] noise = new byte[4 * 1024 * 1024];
        new Random(7).NextBytes(noise);
        var entries = new List<LayerEntry>
        {
            new() { Path = "noise.bin", Type = LayerEntryType.File, Mode = (UnixFileMode)0x1A4, Size = noise.Length, OpenContent = () => new MemoryStream(noise) },
        };
        using var blob = new MemoryStream();

        LayerWriteResult result = await LayerWriter.WriteAsync(entries, blob, new LayerWriterOptions { Parallelism = 2, CompressionLevel = 9 }, TestContext.Current.CancellationToken);

        // Stored deflate blocks cost 5 bytes per 64 KiB plus a gzip header per 1 MiB member (the tar's zero padding still deflates).
        Assert.InRange(result.Size, result.UncompressedSize - 2048, result.UncompressedSize + 4096);
        blob.Position = 0;
        using var gunzip = new System.IO.Compression.GZipStream(blob, System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal(result.DiffId, await Digest.ComputeAsync(gunzip, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WriteAsync_LongNameNonAsciiAndXattrs_RoundTripThroughPax()
    {
        string longPath = string.Join('/', Enumerable.Repeat("directory-name", 12)) + "/fïlé";
        var entry = File(longPath, "x") with
        {
            ExtendedAttributes = new Dictionary<string, byte[]> { ["user.comment"] = "hello"u8.ToArray() },
            Uid = 5_000_000,
        };
        using var blob = new MemoryStream();
        await LayerWriter.WriteAsync([entry], blob, cancellationToken: TestContext.Current.CancellationToken);
        blob.Position = 0;
        LayerEntry read = Assert.Single(await ToListAsync(LayerReader.ReadEntriesAsync(blob, TestContext.Current.CancellationToken)));
        Assert.Equal(longPath, read.Path);
        Assert.Equal(5_000_000, read.Uid);
        Assert.Equal("hello"u8.ToArray(), read.ExtendedAttributes!["user.comment"]);
    }

    [Fact]
    public async Task WriteAsync_SourceDateEpoch_ClampsLaterMtimes()
    {
        var epoch = DateTimeOffset.FromUnixTimeSeconds(1_000_000_000);
        using var blob = new MemoryStream();
        await LayerWriter.WriteAsync([File("a", "a"), File("b", "b") with { ModificationTime = DateTimeOffset.FromUnixTimeSeconds(10) }], blob,
            new LayerWriterOptions { SourceDateEpoch = epoch }, TestContext.Current.CancellationToken);
        blob.Position = 0;
        List<LayerEntry> read = await ToListAsync(LayerReader.ReadEntriesAsync(blob, TestContext.Current.CancellationToken));
        Assert.Equal(epoch, read[0].ModificationTime);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(10), read[1].ModificationTime);
    }

    [Theory]
    [InlineData("../evil")] // path traversal
    [InlineData("/abs")] // absolute
    [InlineData("a/./b")] // not normalised
    [InlineData("a/")] // trailing slash
    public async Task WriteAsync_BadPath_Throws(string path)
    {
        using var blob = new MemoryStream();
        await Assert.ThrowsAsync<ArgumentException>(() => LayerWriter.WriteAsync([File(path, "x")], blob, cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WriteAsync_HardLinkSortingBeforeItsTarget_TakesTheData()
    {
        var link = new LayerEntry { Path = "a", Type = LayerEntryType.HardLink, LinkTarget = "b" };
        var link2 = new LayerEntry { Path = "c", Type = LayerEntryType.HardLink, LinkTarget = "b" };
        using var blob = new MemoryStream();
        await LayerWriter.WriteAsync([link, File("b", "b"), link2], blob, cancellationToken: TestContext.Current.CancellationToken);
        blob.Position = 0;
        List<LayerEntry> read = await ToListAsync(LayerReader.ReadEntriesAsync(blob, TestContext.Current.CancellationToken));
        Assert.Equal([(LayerEntryType.File, (string?)null), (LayerEntryType.HardLink, "a"), (LayerEntryType.HardLink, "a")], read.Select(e => (e.Type, e.LinkTarget)));
    }

    [Fact]
    public async Task WriteAsync_HardLinkToMissingEntry_Throws()
    {
        var link = new LayerEntry { Path = "a", Type = LayerEntryType.HardLink, LinkTarget = "nothing" };
        using var blob = new MemoryStream();
        await Assert.ThrowsAsync<ArgumentException>(() => LayerWriter.WriteAsync([link], blob, cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WriteAsync_ContentShorterThanSize_Throws()
    {
        using var blob = new MemoryStream();
        await Assert.ThrowsAsync<InvalidDataException>(() => LayerWriter.WriteAsync([File("a", "abc") with { Size = 10 }], blob, cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WriteDirectoryAsync_Tree_ExtractsToTheSameTree()
    {
        using var temp = new TempDirectory();
        string source = temp.Combine("src");
        Directory.CreateDirectory(Path.Combine(source, "a", "b"));
        await System.IO.File.WriteAllTextAsync(Path.Combine(source, "a", "b", "f.txt"), "content", TestContext.Current.CancellationToken);
        System.IO.File.SetUnixFileMode(Path.Combine(source, "a", "b", "f.txt"), (UnixFileMode)0x1ED);
        System.IO.File.CreateSymbolicLink(Path.Combine(source, "a", "link"), "b/f.txt");
        await System.IO.File.WriteAllTextAsync(Path.Combine(source, "top"), "", TestContext.Current.CancellationToken);

        string blobPath = temp.Combine("layer.tgz");
        LayerWriteResult written;
        await using (var blob = new FileStream(blobPath, FileMode.CreateNew))
        {
            written = await LayerWriter.WriteDirectoryAsync(source, blob, cancellationToken: TestContext.Current.CancellationToken);
        }
        Assert.Equal(5, written.EntryCount);
        string target = temp.Combine("dst");
        await using (var blob = System.IO.File.OpenRead(blobPath))
        {
            LayerExtractResult extracted = await LayerExtractor.ExtractAsync(blob, target, new LayerExtractOptions { ExpectedDiffId = written.DiffId }, TestContext.Current.CancellationToken);
            Assert.Equal(LayerCompression.Gzip, extracted.Compression);
        }
        Assert.Equal("content", await System.IO.File.ReadAllTextAsync(Path.Combine(target, "a", "b", "f.txt"), TestContext.Current.CancellationToken));
        Assert.Equal((UnixFileMode)0x1ED, System.IO.File.GetUnixFileMode(Path.Combine(target, "a", "b", "f.txt")));
        Assert.Equal("b/f.txt", new FileInfo(Path.Combine(target, "a", "link")).LinkTarget);
        Assert.True(System.IO.File.Exists(Path.Combine(target, "top")));
    }

    internal static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (T item in source) { list.Add(item); }
        return list;
    }
}
