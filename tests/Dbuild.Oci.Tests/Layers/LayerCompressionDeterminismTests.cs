using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.Oci.Tests.Layers;

/// <summary>
/// Compressed layer bytes depend on the tar, the codec and the level only: never on how many threads compress (a 1-CPU
/// and an 8-CPU machine give the same digest) nor on how the tar reaches the compressor.
/// </summary>
public sealed class LayerCompressionDeterminismTests
{
    private const int Mib = 1024 * 1024;
    private static readonly int[] Parallelisms = [1, 2, 3, 8];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<LayerCompression, string> Cases()
    {
        var data = new TheoryData<LayerCompression, string>();
        foreach (LayerCompression compression in new[] { LayerCompression.Gzip, LayerCompression.Zstd })
        {
            foreach (string content in new[] { "random", "text", "base64", "mixed" }) { data.Add(compression, content); }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WriteAsync_Parallelism1To8_SameBytes(LayerCompression compression, string content)
    {
        byte[] big = Content(content, 3 * Mib + 777); // crosses 1 MiB block boundaries, ends in a partial block
        List<LayerEntry> entries =
        [
            LayerWriterTests.File("a/small", "small file before the big one"),
            new() { Path = "a/big", Type = LayerEntryType.File, Mode = (UnixFileMode)0x1A4, Size = big.Length, OpenContent = () => new MemoryStream(big) },
            LayerWriterTests.File("z/last", "after"),
        ];

        var blobs = new List<byte[]>();
        foreach (int parallelism in Parallelisms)
        {
            using var blob = new MemoryStream();
            await LayerWriter.WriteAsync(entries, blob, new LayerWriterOptions { Compression = compression, Parallelism = parallelism }, Token);
            blobs.Add(blob.ToArray());
        }

        Assert.All(blobs, b => Assert.Equal(Digest.Compute(blobs[0]), Digest.Compute(b)));
        await AssertDecompressesWithTheToolAsync(blobs[0], compression);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task CompressAsync_ParallelismAndReadSizes_SameBytes(LayerCompression compression, string content)
    {
        byte[] tar = Content(content, 2 * Mib + 12_345);
        Digest? first = null;
        foreach ((int parallelism, int chunk) in new[] { (1, 1 * Mib), (2, 511), (3, Mib + 1), (8, 64 * 1024 - 3) })
        {
            using var blob = new MemoryStream();
            await using var source = new ChunkedReadStream(tar, chunk);
            LayerWriteResult result = await LayerWriter.CompressAsync(source, blob, new LayerWriterOptions { Compression = compression, Parallelism = parallelism }, Token);
            Assert.Equal(Digest.Compute(tar), result.DiffId);
            first ??= result.Digest;
            Assert.Equal(first, result.Digest);
        }
    }

    [Fact]
    public async Task WriteAsync_Gzip_EveryMemberHasTheSameHeaderOnAnyMachine()
    {
        using var blob = new MemoryStream();
        byte[] big = Content("mixed", 3 * Mib);
        await LayerWriter.WriteAsync([new() { Path = "big", Type = LayerEntryType.File, Size = big.Length, OpenContent = () => new MemoryStream(big) }], blob,
            new LayerWriterOptions { Parallelism = 1 }, Token);
        byte[] bytes = blob.ToArray();

        int members = 0;
        for (int i = 0; i + 10 <= bytes.Length; i++)
        {
            if (bytes[i] != 0x1f || bytes[i + 1] != 0x8b || bytes[i + 2] != 8 || bytes[i + 3] != 0 || bytes.AsSpan(i + 4, 4).ContainsAnyExcept((byte)0)) { continue; }
            members++;
            Assert.Equal(3, bytes[i + 9]); // OS: Unix, whatever zlib was built for
        }
        Assert.InRange(members, 4, 8); // 1 MiB members (a header pattern may also occur inside stored data)
    }

    /// <summary>Deterministic content of a kind: random (stored), text (string matching), base64 (Huffman only), or all three in turn.</summary>
    internal static byte[] Content(string kind, int length)
    {
        byte[] data = new byte[length];
        var random = new Random(length);
        string line = "RUN apt-get install -y --no-install-recommends ca-certificates curl # line {0}\n";
        for (int offset = 0, segment = 0; offset < length; segment++)
        {
            int size = Math.Min(kind == "mixed" ? 300_007 : length, length - offset);
            Span<byte> span = data.AsSpan(offset, size);
            string which = kind == "mixed" ? new[] { "random", "text", "base64" }[segment % 3] : kind;
            switch (which)
            {
                case "random": random.NextBytes(span); break;
                case "text":
                    byte[] text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, size / 40 + 1).Select(i => string.Format(System.Globalization.CultureInfo.InvariantCulture, line, i % 977))));
                    text.AsSpan(0, size).CopyTo(span);
                    break;
                default:
                    byte[] noise = new byte[size];
                    random.NextBytes(noise);
                    System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(noise)).AsSpan(0, size).CopyTo(span);
                    break;
            }
            offset += size;
        }
        return data;
    }

    private static async Task AssertDecompressesWithTheToolAsync(byte[] blob, LayerCompression compression)
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("layer");
        await File.WriteAllBytesAsync(path, blob, Token);
        string tool = compression == LayerCompression.Gzip ? "gzip" : Prerequisites.RequireTool("zstd", "zstd");
        ProcessResult listed = (await ProcessRunner.RunAsync("/bin/sh", ["-c", $"{tool} -dc '{path}' | tar -tf -"], Token)).EnsureSuccess();
        Assert.Equal(["a/big", "a/small", "z/last"], listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>A source that hands out at most <c>chunk</c> bytes per read.</summary>
    private sealed class ChunkedReadStream(byte[] data, int chunk) : MemoryStream(data, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, chunk), cancellationToken);
    }
}
