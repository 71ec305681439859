using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Dbuild.Registry.Storage;

/// <summary>
/// A write-only, unbuffered stream that appends to a file and can also take a whole <see cref="ReadOnlySequence{T}"/>
/// (Kestrel's request-body segments) in one gathered write (<c>pwritev</c>), without copying it first.
/// </summary>
internal sealed class AppendFileStream(SafeFileHandle handle) : Stream, ISequenceWriter
{
    private long _position = RandomAccess.GetLength(handle);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _position;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        RandomAccess.Write(handle, buffer, _position);
        _position += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await RandomAccess.WriteAsync(handle, buffer, _position, cancellationToken).ConfigureAwait(false);
        _position += buffer.Length;
    }

    public async ValueTask WriteAsync(ReadOnlySequence<byte> sequence, CancellationToken cancellationToken)
    {
        if (sequence.IsSingleSegment)
        {
            await WriteAsync(sequence.First, cancellationToken).ConfigureAwait(false);
            return;
        }
        var segments = new List<ReadOnlyMemory<byte>>();
        foreach (ReadOnlyMemory<byte> segment in sequence) { segments.Add(segment); }
        await RandomAccess.WriteAsync(handle, segments, _position, cancellationToken).ConfigureAwait(false);
        _position += sequence.Length;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { handle.Dispose(); }
        base.Dispose(disposing);
    }
}

/// <summary>A sink that takes a multi-segment buffer in one call (a gathered write for files).</summary>
internal interface ISequenceWriter
{
    ValueTask WriteAsync(ReadOnlySequence<byte> sequence, CancellationToken cancellationToken);
}
