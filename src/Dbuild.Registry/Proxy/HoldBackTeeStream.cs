using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Dbuild.Registry.Proxy;

/// <summary>
/// Reads an upstream blob for storage and copies it to a waiting client in the same pass, one chunk behind: the last
/// chunk reaches the client only through <see cref="ReleaseAsync"/>, after the digest was verified and the blob
/// committed, so a client never receives a whole blob that does not match its digest. Memory is one chunk. A client
/// that goes away stops receiving; reading (and storing) goes on. Every read from upstream is bounded by a timeout.
/// </summary>
internal sealed class HoldBackTeeStream(Stream source, HttpResponse? client, TimeSpan readTimeout) : Stream
{
    private byte[]? _held;
    private int _heldLength;
    private bool _clientGone = client is null;

    /// <summary>Bytes read from upstream so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>True when the client stopped reading (or there was none).</summary>
    public bool ClientGone => _clientGone;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(readTimeout);
        int read;
        try { read = await source.ReadAsync(buffer, timeout.Token).ConfigureAwait(false); }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no bytes for {readTimeout.TotalSeconds:0} s after {BytesRead} bytes", ex);
        }
        BytesRead += read;
        if (read > 0 && !_clientGone)
        {
            await SendHeldAsync().ConfigureAwait(false);
            if (_held is null || _held.Length < read)
            {
                if (_held is not null) { ArrayPool<byte>.Shared.Return(_held); }
                _held = ArrayPool<byte>.Shared.Rent(read);
            }
            buffer.Span[..read].CopyTo(_held);
            _heldLength = read;
        }
        return read;
    }

    /// <summary>Sends the held last chunk: call once the content is verified.</summary>
    public Task ReleaseAsync() => SendHeldAsync();

    private async Task SendHeldAsync()
    {
        if (_heldLength == 0 || _clientGone || client is null) { return; }
        if (client.HttpContext.RequestAborted.IsCancellationRequested) { _clientGone = true; return; } // Kestrel may drop writes silently then
        try { await client.Body.WriteAsync(_held.AsMemory(0, _heldLength), client.HttpContext.RequestAborted).ConfigureAwait(false); }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _clientGone = true;
        }
        _heldLength = 0;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read asynchronously.");

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            source.Dispose();
            if (_held is not null) { ArrayPool<byte>.Shared.Return(_held); _held = null; }
        }
        base.Dispose(disposing);
    }
}
