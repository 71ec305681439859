using System.Buffers;
using System.Text;

namespace Dbuild.Solver.Store;

/// <summary>
/// Writes the flat tars of <c>save</c> (docker-archive and OCI layout archives): ustar regular files and directories with
/// short ASCII names, mode 0644/0755, uid/gid 0 and a fixed mtime, so the same images give the same bytes. A file's
/// content streams from a source whose length is known beforehand; sizes past ustar's 8 GiB use base-256 as Go's
/// archive/tar writes and reads them.
/// </summary>
internal sealed class ArchiveTarWriter(Stream output)
{
    private const int BlockSize = 512;
    private const long MaxOctalSize = 0x1FFFFFFFF; // 077777777777
    private readonly byte[] _header = new byte[BlockSize];

    /// <summary>A directory entry (<c>name/</c>).</summary>
    public Task WriteDirectoryAsync(string name, CancellationToken cancellationToken) =>
        WriteHeaderAsync(name.TrimEnd('/') + "/", 0, '5', 0b111_101_101, cancellationToken);

    /// <summary>A file held in memory (manifests, configs, index.json).</summary>
    public async Task WriteFileAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        await WriteHeaderAsync(name, content.Length, '0', 0b110_100_100, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        await PadAsync(content.Length, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A file of exactly <paramref name="size"/> bytes read from <paramref name="content"/> (a shorter or longer source is an error).</summary>
    /// <exception cref="InvalidDataException">The source did not hold <paramref name="size"/> bytes.</exception>
    public async Task WriteFileAsync(string name, long size, Stream content, CancellationToken cancellationToken)
    {
        await WriteHeaderAsync(name, size, '0', 0b110_100_100, cancellationToken).ConfigureAwait(false);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            long left = size;
            while (left > 0)
            {
                int read = await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
                if (read == 0) { throw new InvalidDataException($"{name} ended after {size - left} of its {size} bytes while it was written to the archive."); }
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                left -= read;
            }
            if (await content.ReadAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new InvalidDataException($"{name} has more than the {size} bytes measured before it was written to the archive.");
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
        await PadAsync(size, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The two zero blocks that end an archive.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        await output.WriteAsync(new byte[BlockSize * 2], cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteHeaderAsync(string name, long size, char typeflag, int mode, CancellationToken cancellationToken)
    {
        if (name.Length > 100 || Encoding.UTF8.GetByteCount(name) != name.Length)
        {
            throw new ArgumentException($"'{name}' does not fit a ustar name field.", nameof(name));
        }
        Array.Clear(_header);
        Encoding.ASCII.GetBytes(name, _header);
        Octal(100, 8, mode);
        Octal(108, 8, 0);
        Octal(116, 8, 0);
        if (size <= MaxOctalSize) { Octal(124, 12, size); }
        else
        {
            _header[124] = 0x80;
            for (int i = 0; i < 8; i++) { _header[135 - i] = (byte)(size >> (8 * i)); }
        }
        Octal(136, 12, 0);
        _header[156] = (byte)typeflag;
        "ustar\0"u8.CopyTo(_header.AsSpan(257));
        "00"u8.CopyTo(_header.AsSpan(263));
        "        "u8.CopyTo(_header.AsSpan(148));
        int sum = 0;
        foreach (byte b in _header) { sum += b; }
        Octal(148, 7, sum);
        _header[155] = (byte)' ';
        await output.WriteAsync(_header, cancellationToken).ConfigureAwait(false);
    }

    private void Octal(int offset, int length, long value)
    {
        string digits = Convert.ToString(value, 8).PadLeft(length - 1, '0');
        Encoding.ASCII.GetBytes(digits, _header.AsSpan(offset, length - 1));
        _header[offset + length - 1] = 0;
    }

    private async Task PadAsync(long size, CancellationToken cancellationToken)
    {
        int padding = (int)((BlockSize - (size % BlockSize)) % BlockSize);
        if (padding > 0) { await output.WriteAsync(new byte[padding], cancellationToken).ConfigureAwait(false); }
    }
}
