using System.Buffers;
using System.IO.Compression;

namespace Dbuild.Oci.Layers;

/// <summary>
/// gzip on several cores: input is cut into 1 MiB blocks, each compressed on the thread pool as its own gzip member,
/// and the members are written in order. Concatenated members are one valid gzip stream (RFC 1952 section 2.2), read
/// back by every gunzip. Memory is bounded by <c>parallelism</c> blocks in flight.
/// </summary>
internal sealed class ParallelGzipStream(Stream inner, int level, int parallelism) : Stream
{
    private const int BlockSize = 1024 * 1024;
    private readonly Queue<Task<byte[]>> _inFlight = new();
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
                byte[] member = await _inFlight.Dequeue().ConfigureAwait(false);
                await inner.WriteAsync(member).ConfigureAwait(false);
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
        _inFlight.Enqueue(Task.Run(() => Compress(block, length, level), cancellationToken));
        _block = ArrayPool<byte>.Shared.Rent(BlockSize);
        _filled = 0;
        while (_inFlight.Count >= parallelism)
        {
            byte[] member = await _inFlight.Dequeue().ConfigureAwait(false);
            await inner.WriteAsync(member, cancellationToken).ConfigureAwait(false);
        }
    }

    private static byte[] Compress(byte[] block, int length, int level)
    {
        try
        {
            level = IsIncompressible(block.AsSpan(0, length)) ? 0 : level;
            // A bounded per-block buffer (at most ~1 MiB plus gzip overhead), not a whole-layer buffer.
            using var output = new MemoryStream(length / 2 + 64);
            using (var gzip = new GZipStream(output, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
            {
                gzip.Write(block, 0, length);
            }
            return output.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    /// <summary>
    /// True when samples of the block (4 × 8 KiB, spread over it) shrink by less than 3% at level 2: random, encrypted
    /// or already-compressed bytes. Such a block is stored (deflate level 0: a copy and a CRC) instead of burning CPU on
    /// it for nothing. Level 2 because it builds Huffman tables for the data (level 1's fixed tables see no gain even in
    /// base64 text, which deflates to 75%). A function of the bytes only, so layers stay reproducible.
    /// </summary>
    internal static bool IsIncompressible(ReadOnlySpan<byte> block)
    {
        const int Samples = 4;
        const int SampleSize = 8 * 1024;
        if (block.Length < Samples * SampleSize * 2) { return false; }
        using var counter = new MemoryStream(Samples * SampleSize + 256);
        using (var deflate = new DeflateStream(counter, new ZLibCompressionOptions { CompressionLevel = 2 }, leaveOpen: true))
        {
            long stride = (block.Length - SampleSize) / (Samples - 1);
            for (int i = 0; i < Samples; i++) { deflate.Write(block.Slice((int)(stride * i), SampleSize)); }
        }
        return counter.Length > Samples * SampleSize * 0.97;
    }
}
