using System.Security.Cryptography;

namespace Dbuild.Oci.Layers;

/// <summary>A write-only pass-through that hashes (unless told not to) and counts what goes through it.</summary>
internal sealed class HashingWriteStream(Stream inner, bool leaveOpen, bool hash = true) : Stream
{
    private readonly IncrementalHash? _hash = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;

    public long BytesWritten { get; private set; }

    /// <summary>The sha256 of what went through; default when the stream was made not to hash.</summary>
    public Digest GetDigest() => _hash is null ? default : Digest.FromHash(_hash, Digest.Sha256Algorithm);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash?.AppendData(buffer);
        BytesWritten += buffer.Length;
        inner.Write(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _hash?.AppendData(buffer.Span);
        BytesWritten += buffer.Length;
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash?.Dispose();
            if (!leaveOpen) { inner.Dispose(); }
        }
        base.Dispose(disposing);
    }
}
