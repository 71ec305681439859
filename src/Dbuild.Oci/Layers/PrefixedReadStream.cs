using System.Security.Cryptography;

namespace Dbuild.Oci.Layers;

/// <summary>A read-only stream that replays a few already-read bytes, then continues with the inner stream; optionally hashes what it yields.</summary>
internal sealed class PrefixedReadStream(byte[] prefix, int prefixLength, Stream inner, bool leaveOpen, bool hash) : ForwardReadStream
{
    private readonly IncrementalHash? _hash = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
    private int _prefixOffset;

    public long BytesRead { get; private set; }

    public Digest GetDigest() => Digest.FromHash(_hash ?? throw new InvalidOperationException("Not hashing."), Digest.Sha256Algorithm);

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read;
        if (_prefixOffset < prefixLength)
        {
            read = Math.Min(buffer.Length, prefixLength - _prefixOffset);
            prefix.AsSpan(_prefixOffset, read).CopyTo(buffer);
            _prefixOffset += read;
        }
        else
        {
            read = inner.Read(buffer);
        }
        Account(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        if (_prefixOffset < prefixLength)
        {
            read = Math.Min(buffer.Length, prefixLength - _prefixOffset);
            prefix.AsMemory(_prefixOffset, read).CopyTo(buffer);
            _prefixOffset += read;
        }
        else
        {
            read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        Account(buffer.Span[..read]);
        return read;
    }

    private void Account(ReadOnlySpan<byte> data)
    {
        _hash?.AppendData(data);
        BytesRead += data.Length;
    }


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
