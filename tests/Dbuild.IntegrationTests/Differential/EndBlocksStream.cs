namespace Dbuild.IntegrationTests.Differential;

/// <summary>
/// A layer tar as Go's archive/tar (and so BuildKit, containerd and docker) reads it: the end of the stream at a header
/// boundary ends the archive, even without the two zero blocks the tar format asks for. umoci writes such layers, and
/// <c>docker save</c> gives them back byte for byte; .NET's TarReader throws on them, so this stream adds the end blocks
/// after the last byte (a tar that has them stops before reading these).
/// </summary>
internal sealed class EndBlocksStream(Stream inner) : Stream
{
    private int _padding = 1024;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = inner.Read(buffer);
        return read > 0 ? read : Pad(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await inner.ReadAsync(buffer, cancellationToken);
        return read > 0 ? read : Pad(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Pad(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, _padding);
        buffer[..n].Clear();
        _padding -= n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) { inner.Dispose(); }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
