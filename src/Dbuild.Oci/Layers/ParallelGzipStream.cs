using System.Buffers;
using System.IO.Compression;

namespace Dbuild.Oci.Layers;

/// <summary>
/// gzip as independent members: the input is cut into 1 MiB blocks, each compressed as its own gzip member, and the
/// members are written in order. Concatenated members are one valid gzip stream (RFC 1952 section 2.2), read back by
/// every gunzip. The bytes depend only on the input and the level: the cut falls every 1 MiB of input however it is
/// written, each block's deflate settings are chosen from its own bytes (<see cref="Choose"/>), and <c>parallelism</c>
/// (1 = on the caller's thread) only says how many blocks are compressed at once. Memory is bounded by
/// <c>parallelism</c> blocks in flight.
/// </summary>
internal sealed class ParallelGzipStream(Stream inner, int level, int parallelism) : Stream
{
    private const int BlockSize = 1024 * 1024;
    private const int OsByte = 9; // RFC 1952 section 2.3: ID1 ID2 CM FLG MTIME(4) XFL OS
    private const byte Unix = 3;
    private readonly Queue<Task<Member>> _inFlight = new();
    private byte[] _block = ArrayPool<byte>.Shared.Rent(BlockSize);
    private int _filled;
    private bool _anyMember;
    private bool _finished;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            int take = Math.Min(BlockSize - _filled, buffer.Length);
            buffer.Span[..take].CopyTo(_block.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
            if (_filled == BlockSize) { await SubmitBlockAsync(cancellationToken).ConfigureAwait(false); }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (!_finished)
        {
            _finished = true;
            if (_filled > 0 || !_anyMember) { await SubmitBlockAsync(CancellationToken.None).ConfigureAwait(false); }
            while (_inFlight.Count > 0)
            {
                await WriteMemberAsync(await _inFlight.Dequeue().ConfigureAwait(false), CancellationToken.None).ConfigureAwait(false);
            }
            ArrayPool<byte>.Shared.Return(_block);
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_finished) { DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        base.Dispose(disposing);
    }

    private async Task SubmitBlockAsync(CancellationToken cancellationToken)
    {
        byte[] block = _block;
        int length = _filled;
        _anyMember = true;
        _block = ArrayPool<byte>.Shared.Rent(BlockSize);
        _filled = 0;
        if (parallelism == 1)
        {
            await WriteMemberAsync(Compress(block, length, level), cancellationToken).ConfigureAwait(false);
            return;
        }
        _inFlight.Enqueue(Task.Run(() => Compress(block, length, level), cancellationToken));
        while (_inFlight.Count >= parallelism)
        {
            await WriteMemberAsync(await _inFlight.Dequeue().ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask WriteMemberAsync(Member member, CancellationToken cancellationToken)
    {
        try { await inner.WriteAsync(member.Buffer.AsMemory(0, member.Length), cancellationToken).ConfigureAwait(false); }
        finally { ArrayPool<byte>.Shared.Return(member.Buffer); }
    }

    /// <summary>A compressed member in a pooled buffer (returned once written): fresh arrays per block were most of a layer export's page faults.</summary>
    private readonly record struct Member(byte[] Buffer, int Length);

    private static Member Compress(byte[] block, int length, int level)
    {
        try
        {
            ZLibCompressionOptions options = Choose(block.AsSpan(0, length), level);
            // Deflate never grows data by more than 5 bytes per 16 KiB stored block; the gzip header and trailer are 18.
            byte[] buffer = ArrayPool<byte>.Shared.Rent(length + length / 1024 + 1024);
            try
            {
                using var output = new MemoryStream(buffer, 0, buffer.Length, writable: true);
                using (var gzip = new GZipStream(output, options, leaveOpen: true))
                {
                    gzip.Write(block, 0, length);
                }
                if (output.Position > OsByte) { buffer[OsByte] = Unix; } // zlib writes the OS it was built for; the bytes must not depend on the machine
                return new Member(buffer, (int)output.Position);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    private const int Samples = 16; // many small samples: 4 larger ones judged a tar of random files by whether one hit a header
    private const int SampleSize = 4 * 1024;

    /// <summary>
    /// How to deflate one block, from samples of it (16 × 4 KiB spread over it), so it is a function of the bytes only
    /// and layers stay reproducible:
    /// <list type="bullet">
    /// <item>stored (level 0: a copy and a CRC) when the samples shrink by less than 5% at level 2 (3% when a level
    /// above 2 was asked for) — random, encrypted or already-compressed bytes, tar headers and padding between them
    /// included: deflating such a block costs ~20 ms per MiB of CPU (a fifth of that for Huffman codes) to save
    /// tens of KiB, well under a millisecond of transfer;</item>
    /// <item>Huffman codes only when they come within 5% of level 2's size — high-entropy text such as base64 or hex
    /// (tar headers included), where string matching finds little and costs three times the time;</item>
    /// <item>otherwise the requested level.</item>
    /// </list>
    /// Level 2 is the judge because it builds Huffman tables for the data; zlib-ng's level 1 uses fixed tables and sees
    /// no gain even in base64, which deflates to 75%.
    /// </summary>
    internal static ZLibCompressionOptions Choose(ReadOnlySpan<byte> block, int level)
    {
        if (level == 0 || block.Length < Samples * SampleSize * 2) { return new ZLibCompressionOptions { CompressionLevel = level }; }
        double matched = SampleRatio(block, ZLibCompressionStrategy.Default);
        if (matched > (level <= 2 ? 0.95 : 0.97)) { return new ZLibCompressionOptions { CompressionLevel = 0 }; }
        double huffman = SampleRatio(block, ZLibCompressionStrategy.HuffmanOnly);
        return huffman <= matched * 1.05
            ? new ZLibCompressionOptions { CompressionLevel = level, CompressionStrategy = ZLibCompressionStrategy.HuffmanOnly }
            : new ZLibCompressionOptions { CompressionLevel = level };
    }

    /// <summary>True when the block would be stored (see <see cref="Choose"/>).</summary>
    internal static bool IsIncompressible(ReadOnlySpan<byte> block) => Choose(block, 6).CompressionLevel == 0;

    private static double SampleRatio(ReadOnlySpan<byte> block, ZLibCompressionStrategy strategy)
    {
        using var counter = new MemoryStream(Samples * SampleSize + 256);
        using (var deflate = new DeflateStream(counter, new ZLibCompressionOptions { CompressionLevel = 2, CompressionStrategy = strategy }, leaveOpen: true))
        {
            long stride = (block.Length - SampleSize) / (Samples - 1);
            for (int i = 0; i < Samples; i++) { deflate.Write(block.Slice((int)(stride * i), SampleSize)); }
        }
        return (double)counter.Length / (Samples * SampleSize);
    }
}
