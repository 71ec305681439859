namespace Dbuild.Oci.Layers;

/// <summary>
/// The stored content of one tar entry: <c>length</c> bytes, then padding to the next 512-byte block. The archive
/// ending inside the content is an error naming the entry; ending inside the padding only ends the archive, as Go's
/// archive/tar allows (some writers, e.g. umoci 0.4's insert, stop right after the last entry's bytes).
/// </summary>
internal sealed class TarEntryStream(TarSource source, string name, long length) : ForwardReadStream
{
    private long _position;

    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        long left = length - _position;
        if (left <= 0 || buffer.IsEmpty) { return 0; }
        int read = await source.ReadAsync(buffer[..(int)Math.Min(buffer.Length, left)], cancellationToken).ConfigureAwait(false);
        if (read == 0) { throw Truncated(); }
        _position += read;
        return read;
    }

    /// <summary>Skips what is left of the content and the padding; false when the archive ended inside the padding.</summary>
    public async Task<bool> SkipRestAsync(CancellationToken cancellationToken)
    {
        long left = length - _position;
        if (await source.SkipAsync(left, cancellationToken).ConfigureAwait(false) < left) { throw Truncated(); }
        _position = length;
        int padding = TarHeaderWriter.PaddingFor(length);
        return await source.SkipAsync(padding, cancellationToken).ConfigureAwait(false) == padding;
    }

    private InvalidDataException Truncated() =>
        new($"The tar archive ends inside the content of '{name}' ({_position} of {length} bytes): the layer is truncated.");
}
