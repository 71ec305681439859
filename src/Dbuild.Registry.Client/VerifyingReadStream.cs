using System.Security.Cryptography;
using Dbuild.Oci;

namespace Dbuild.Registry.Client;

/// <summary>
/// Hashes what is read through it and, at the end of the stream, throws <see cref="DigestMismatchException"/> unless
/// the bytes match the expected digest (and size, when known). Owns the response it reads from.
/// </summary>
internal sealed class VerifyingReadStream(Stream inner, Digest expected, long? expectedSize, IDisposable? owner) : Stream
{
    private readonly IncrementalHash _hash = expected.CreateHash();
    private long _read;
    private bool _verified;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => expectedSize ?? throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        Account(buffer[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Account(buffer.Span[..n]);
        return n;
    }

    private void Account(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0)
        {
            _hash.AppendData(data);
            _read += data.Length;
            if (expectedSize is { } max && _read > max)
            {
                throw new InvalidContentException($"Blob {expected} is larger than the {max} bytes its descriptor says; the download was discarded.");
            }
            return;
        }
        if (_verified) { return; }
        _verified = true;
        Digest actual = Digest.FromHash(_hash, expected.Algorithm);
        if (actual != expected) { throw new DigestMismatchException(expected, actual); }
        if (expectedSize is { } size && size != _read)
        {
            throw new InvalidContentException($"Blob {expected} has {_read} bytes but its descriptor says {size}; the download was discarded.");
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner?.Dispose();
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}
