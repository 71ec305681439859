using System.IO.Compression;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver.Store;

/// <summary>
/// Opens an archive that may be compressed, as docker's load and import accept it: gzip, bzip2, xz, zstd or a plain tar,
/// told apart by its first bytes. Works on pipes (stdin, an HTTP body): the bytes looked at are read again.
/// </summary>
internal static class ArchiveDecompression
{
    public static async Task<Stream> OpenAsync(Stream source, CancellationToken cancellationToken)
    {
        byte[] head = new byte[6];
        int length = await source.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        Stream whole = new HeadStream(head.AsMemory(0, length), source);
        return head.AsSpan(0, length) switch
        {
            [(byte)'B', (byte)'Z', (byte)'h', ..] => SharpCompress.Compressors.BZip2.BZip2Stream.Create(whole, SharpCompress.Compressors.CompressionMode.Decompress, false),
            [0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00] => new SharpCompress.Compressors.Xz.XZStream(whole),
            [0x1f, 0x8b, ..] => new GZipStream(whole, CompressionMode.Decompress),
            _ => await LayerReader.OpenDecompressedAsync(whole, leaveOpen: false, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>Bytes already read from a stream, then the rest of it.</summary>
    private sealed class HeadStream(ReadOnlyMemory<byte> head, Stream rest) : Stream
    {
        private ReadOnlyMemory<byte> _head = head;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        /// <summary>Bytes read so far: the xz reader asks, to check its block sizes.</summary>
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n;
            if (_head.IsEmpty) { n = rest.Read(buffer); }
            else
            {
                n = Math.Min(buffer.Length, _head.Length);
                _head.Span[..n].CopyTo(buffer);
                _head = _head[n..];
            }
            _position += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_head.IsEmpty) { return Read(buffer.Span); }
            int n = await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) { rest.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
