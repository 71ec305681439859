using System.Net;

namespace Dbuild.Registry.Client.Resilience;

/// <summary>
/// Sends another <see cref="HttpContent"/> unchanged while telling a <see cref="StallGuard"/> about every chunk the
/// network accepted, so an upload is timed per chunk (a registry that stops reading fails it), never as a whole.
/// </summary>
internal sealed class WatchedContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly StallGuard _guard;

    public WatchedContent(HttpContent inner, StallGuard guard)
    {
        _inner = inner;
        _guard = guard;
        foreach (KeyValuePair<string, IEnumerable<string>> header in inner.Headers) { Headers.TryAddWithoutValidation(header.Key, header.Value); }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _guard.Sending = true;
        await _inner.CopyToAsync(new ProgressStream(stream, _guard), context, cancellationToken).ConfigureAwait(false);
        _guard.Sending = false;
        _guard.Touch(); // now the response headers have the whole timeout
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _inner.Headers.ContentLength ?? -1;
        return length >= 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _inner.Dispose(); }
        base.Dispose(disposing);
    }

    /// <summary>The request stream, touching the guard after each write completes.</summary>
    private sealed class ProgressStream(Stream inner, StallGuard guard) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            guard.Touch();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            guard.Touch();
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
