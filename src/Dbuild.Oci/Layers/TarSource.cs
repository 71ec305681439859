using System.Buffers;

namespace Dbuild.Oci.Layers;

/// <summary>The archive stream under a tar reader: counts the bytes consumed, and skips by seeking when it can.</summary>
internal sealed class TarSource(Stream stream)
{
    private const int SeekThreshold = 64 * 1024;

    /// <summary>Bytes consumed from the archive so far.</summary>
    public long Offset { get; private set; }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Offset += read;
        return read;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the archive ends; returns how much was read.</summary>
    public async ValueTask<int> FillAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await ReadAsync(buffer[filled..], cancellationToken).ConfigureAwait(false);
            if (read == 0) { break; }
            filled += read;
        }
        return filled;
    }

    /// <summary>Skips up to <paramref name="count"/> bytes; returns how many there were before the archive ended.</summary>
    public async ValueTask<long> SkipAsync(long count, CancellationToken cancellationToken)
    {
        if (count <= 0) { return 0; }
        if (count > SeekThreshold && stream.CanSeek)
        {
            // A plain tar file: jump over the content instead of reading it.
            long available = Math.Max(0, stream.Length - stream.Position);
            long skipped = Math.Min(count, available);
            stream.Seek(skipped, SeekOrigin.Current);
            Offset += skipped;
            return skipped;
        }
        byte[] scratch = ArrayPool<byte>.Shared.Rent((int)Math.Min(count, SeekThreshold));
        try
        {
            long skipped = 0;
            while (skipped < count)
            {
                int read = await ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, count - skipped)), cancellationToken).ConfigureAwait(false);
                if (read == 0) { break; }
                skipped += read;
            }
            return skipped;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
