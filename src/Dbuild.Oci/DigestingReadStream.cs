using System.Security.Cryptography;

namespace Dbuild.Oci;

/// <summary>
/// A read-only wrapper that hashes everything read through it. When an expected digest is given,
/// reaching the end of the stream with a different hash throws <see cref="DigestMismatchException"/>,
/// so a reader can never consume unverified content to its end without noticing. With <see cref="ExpectedSize"/>,
/// reading more bytes, or ending with fewer, throws <see cref="InvalidContentException"/>.
/// </summary>
public sealed class DigestingReadStream : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash;
    private readonly string _algorithm;
    private readonly Digest? _expected;
    private readonly bool _leaveOpen;
    private Digest? _actual;

    /// <summary>Wraps <paramref name="inner"/>; verifies against <paramref name="expected"/> at end of stream when given.</summary>
    public DigestingReadStream(Stream inner, Digest? expected = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _expected = expected;
        _algorithm = expected?.Algorithm ?? Digest.Sha256Algorithm;
        _hash = Digest.CreateHash(_algorithm);
        _leaveOpen = leaveOpen;
    }

    /// <summary>
    /// The size the content must have, when known (a descriptor's size): reading past it, or reaching the end short of
    /// it, throws <see cref="InvalidContentException"/>. It is also the stream's <see cref="Length"/>.
    /// </summary>
    public long? ExpectedSize { get; init; }

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>The digest of everything read, available once the end of the stream was reached.</summary>
    public Digest? ActualDigest => _actual;

    /// <summary>Reads the rest of the stream (discarding it) and returns the digest of all content.</summary>
    public async Task<Digest> DrainAsync(CancellationToken cancellationToken = default)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (await ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0) { }
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
        return _actual!.Value;
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        int read = _inner.Read(buffer);
        Observe(buffer[..read], buffer.Length);
        return read;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Observe(buffer.Span[..read], buffer.Length);
        return read;
    }

    private void Observe(ReadOnlySpan<byte> data, int requested)
    {
        if (data.Length > 0)
        {
            _hash.AppendData(data);
            BytesRead += data.Length;
            if (ExpectedSize is { } max && BytesRead > max)
            {
                throw new InvalidContentException($"Content {Describe()} is larger than the expected {max} bytes; it was discarded.");
            }
            return;
        }
        if (requested == 0 || _actual is not null) { return; }
        _actual = Digest.FromHash(_hash, _algorithm);
        if (_expected is { } expected && expected != _actual.Value) { throw new DigestMismatchException(expected, _actual.Value); }
        if (ExpectedSize is { } size && size != BytesRead)
        {
            throw new InvalidContentException($"Content {Describe()} has {BytesRead} bytes but {size} were expected; it was discarded.");
        }
    }

    private string Describe() => (_expected ?? _actual)?.ToString() ?? "being read";

    /// <inheritdoc />
    public override bool CanRead => true;
    /// <inheritdoc />
    public override bool CanSeek => false;
    /// <inheritdoc />
    public override bool CanWrite => false;
    /// <inheritdoc />
    public override long Length => ExpectedSize ?? _inner.Length;
    /// <inheritdoc />
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    /// <inheritdoc />
    public override void Flush() { }
    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();
    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!_leaveOpen) { _inner.Dispose(); }
        }
        base.Dispose(disposing);
    }
}
