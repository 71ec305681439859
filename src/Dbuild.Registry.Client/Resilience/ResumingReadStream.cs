using Polly;

namespace Dbuild.Registry.Client.Resilience;

/// <summary>A reopened body: the response that owns it, and how many bytes to drop first (a server that ignored the Range).</summary>
internal sealed record ReopenedBody(HttpResponseMessage Response, Stream Body, long Skip);

/// <summary>
/// A response body read with an idle timeout: a read that gets no byte for <see cref="RegistryClientOptions.ReadTimeout"/>
/// fails, however long the whole transfer takes. With a reopen function (a blob GET), a read that stalled or was cut
/// (connection dropped) is retried through a pipeline by reopening the body at the current offset, with a Range request
/// where the server supports it; the retries start over whenever a read makes progress. When they give up the failure is
/// one <see cref="RegistryException"/> line naming the registry, the request and the cause.
/// </summary>
internal sealed class ResumingReadStream : Stream
{
    private readonly Func<long, CancellationToken, Task<ReopenedBody>>? _reopen;
    private readonly ResiliencePipeline _pipeline;
    private readonly string _registry;
    private readonly string _requestLine;
    private readonly TimeSpan _idle;
    private readonly TimeProvider _timeProvider;
    private readonly Func<Exception, string, string> _describe;
    private HttpResponseMessage? _response;
    private Stream? _body;
    private long _skip;
    private long _position;

    /// <param name="response">The response whose body this is; disposed with the stream or when the body is reopened.</param>
    /// <param name="body">Its content stream.</param>
    /// <param name="reopen">Reopens the body at an offset; null reads once, without resuming.</param>
    /// <param name="pipeline">Decides on retries of a failed read.</param>
    /// <param name="registry">Named in the error.</param>
    /// <param name="requestLine">Named in the error (<c>GET /v2/…</c>).</param>
    /// <param name="options">The read timeout and clock.</param>
    /// <param name="describe">The cause and fix of a transport failure, given the failure and the ", gave up after N attempts" text.</param>
    public ResumingReadStream(HttpResponseMessage response, Stream body, Func<long, CancellationToken, Task<ReopenedBody>>? reopen, ResiliencePipeline pipeline,
        string registry, string requestLine, RegistryClientOptions options, Func<Exception, string, string> describe)
    {
        (_response, _body, _reopen, _registry, _requestLine, _describe) = (response, body, reopen, registry, requestLine, describe);
        _pipeline = reopen is null ? ResiliencePipeline.Empty : pipeline;
        _idle = options.ReadTimeout;
        _timeProvider = options.TimeProvider;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int attempts = 0;
        try
        {
            return await RegistryRetry.ExecuteAsync(_pipeline, _registry, async token =>
            {
                attempts++;
                return await ReadOnceAsync(buffer, token).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (RegistryRetry.IsTransport(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException($"Contacting {_registry} failed: {_requestLine}: {_describe(ex, RegistryRetry.GaveUp(attempts))}", null, null, isTransient: true, ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>A synchronous read goes straight to the body: no idle timeout, no resuming (the client's callers read asynchronously).</summary>
    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_body is null || _skip > 0) { throw new NotSupportedException("A resumed registry body is read asynchronously."); }
        int read = _body.Read(buffer, offset, count);
        _position += read;
        return read;
    }

    private async ValueTask<int> ReadOnceAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_body is null)
        {
            ReopenedBody reopened = await _reopen!(_position, cancellationToken).ConfigureAwait(false);
            (_response, _body, _skip) = (reopened.Response, reopened.Body, reopened.Skip);
        }
        while (_skip > 0)
        {
            int dropped = await GuardedReadAsync(buffer[..(int)Math.Min(buffer.Length, _skip)], cancellationToken).ConfigureAwait(false);
            if (dropped == 0) { Drop(); throw new IOException($"the body ended before byte {_position} where the read resumed"); }
            _skip -= dropped;
        }
        int read = await GuardedReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _position += read;
        return read;
    }

    private async ValueTask<int> GuardedReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        using var guard = new StallGuard(_idle, _timeProvider, cancellationToken);
        try
        {
            return await _body!.ReadAsync(buffer, guard.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (guard.Fired && !cancellationToken.IsCancellationRequested)
        {
            Drop();
            throw new RegistryTimeoutException($"no data for {StallGuard.Seconds(_idle)} (read timeout)", ex);
        }
        catch (Exception ex) when (RegistryRetry.IsTransport(ex))
        {
            Drop();
            throw;
        }
    }

    /// <summary>Lets go of a failed body (and its connection); the next read reopens.</summary>
    private void Drop()
    {
        _body?.Dispose();
        _response?.Dispose();
        (_body, _response) = (null, null);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) { Drop(); }
        base.Dispose(disposing);
    }
}
