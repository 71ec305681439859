namespace Dbuild.Oci.Layers;

/// <summary>
/// A GNU sparse file's logical content: the stored fragments at their offsets, zeros in the holes between them,
/// <c>size</c> bytes in all. The fragments are sorted, do not overlap and end within <c>size</c> (checked by
/// <see cref="TarSparseMap"/>).
/// </summary>
internal sealed class SparseReadStream(Stream stored, IReadOnlyList<(long Offset, long Length)> fragments, long size) : ForwardReadStream
{
    private long _position;
    private int _fragment;

    public override long Length => size;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= size || buffer.IsEmpty) { return 0; }
        while (_fragment < fragments.Count && fragments[_fragment].Offset + fragments[_fragment].Length <= _position) { _fragment++; }
        if (_fragment < fragments.Count && fragments[_fragment].Offset <= _position)
        {
            (long offset, long length) = fragments[_fragment];
            int want = (int)Math.Min(buffer.Length, offset + length - _position);
            int read = await stored.ReadAsync(buffer[..want], cancellationToken).ConfigureAwait(false);
            if (read == 0) { throw new InvalidDataException("A sparse file's stored data is shorter than its map says."); }
            _position += read;
            return read;
        }
        long holeEnd = _fragment < fragments.Count ? fragments[_fragment].Offset : size;
        int zeros = (int)Math.Min(buffer.Length, holeEnd - _position);
        buffer.Span[..zeros].Clear();
        _position += zeros;
        return zeros;
    }
}
