using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Dbuild.Oci.Layers;

/// <summary>
/// A forward-only tar reader (ustar, PAX <c>x</c>/<c>g</c> records, GNU <c>L</c>/<c>K</c> long names, base-256 numbers)
/// that keeps PAX values as raw bytes, so binary xattrs such as <c>security.capability</c> survive, which
/// System.Formats.Tar's string-typed PAX attributes cannot guarantee.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "The per-entry stream is a view that owns nothing; the caller owns the archive stream.")]
internal sealed class TarStreamReader(Stream stream)
{
    private const int BlockSize = 512;
    private const int MaxMetadataSize = 1024 * 1024;
    private readonly byte[] _block = new byte[BlockSize];
    private BoundedReadStream? _current;

    /// <summary>The next entry and its content (valid until the next call), or null at the end of the archive.</summary>
    public async Task<(LayerEntry Entry, Stream Data)?> NextAsync(CancellationToken cancellationToken)
    {
        if (_current is not null)
        {
            await _current.SkipRestAsync(cancellationToken).ConfigureAwait(false);
            _current = null;
        }
        Dictionary<string, byte[]>? pax = null;
        string? longName = null;
        string? longLink = null;
        while (true)
        {
            if (!await ReadBlockAsync(cancellationToken).ConfigureAwait(false) || _block.AsSpan().IndexOfAnyExcept((byte)0) < 0) { return null; }
            VerifyChecksum();
            byte typeflag = _block[156];
            long size = ParseNumber(_block.AsSpan(124, 12));
            switch (typeflag)
            {
                case (byte)'x':
                    pax ??= new Dictionary<string, byte[]>(StringComparer.Ordinal);
                    ParsePax(await ReadMetadataAsync(size, cancellationToken).ConfigureAwait(false), pax);
                    continue;
                case (byte)'g':
                    await ReadMetadataAsync(size, cancellationToken).ConfigureAwait(false);
                    continue;
                case (byte)'L':
                    longName = CString(await ReadMetadataAsync(size, cancellationToken).ConfigureAwait(false));
                    continue;
                case (byte)'K':
                    longLink = CString(await ReadMetadataAsync(size, cancellationToken).ConfigureAwait(false));
                    continue;
            }

            string name = pax?.GetValueOrDefault("path") is { } paxPath ? Encoding.UTF8.GetString(paxPath) : longName ?? UstarName();
            string link = pax?.GetValueOrDefault("linkpath") is { } paxLink ? Encoding.UTF8.GetString(paxLink) : longLink ?? CString(_block.AsSpan(157, 100));
            if (pax?.GetValueOrDefault("size") is { } paxSize) { size = long.Parse(Encoding.ASCII.GetString(paxSize), CultureInfo.InvariantCulture); }
            LayerEntryType type = typeflag switch
            {
                (byte)'0' or 0 or (byte)'7' => name.EndsWith('/') ? LayerEntryType.Directory : LayerEntryType.File,
                (byte)'1' => LayerEntryType.HardLink,
                (byte)'2' => LayerEntryType.Symlink,
                (byte)'3' => LayerEntryType.CharacterDevice,
                (byte)'4' => LayerEntryType.BlockDevice,
                (byte)'5' => LayerEntryType.Directory,
                (byte)'6' => LayerEntryType.Fifo,
                (byte)'S' => throw new InvalidDataException($"Layer entry '{name}' is a GNU sparse file, which layers do not support."),
                _ => throw new InvalidDataException($"Layer entry '{name}' has the unsupported tar type '{(char)typeflag}'."),
            };
            Dictionary<string, byte[]>? xattrs = null;
            if (pax is not null)
            {
                foreach ((string key, byte[] value) in pax)
                {
                    if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal)) { (xattrs ??= new(StringComparer.Ordinal))[key["SCHILY.xattr.".Length..]] = value; }
                    else if (key.StartsWith("LIBARCHIVE.xattr.", StringComparison.Ordinal))
                    {
                        (xattrs ??= new(StringComparer.Ordinal))[Uri.UnescapeDataString(key["LIBARCHIVE.xattr.".Length..])] = Convert.FromBase64String(Encoding.ASCII.GetString(value));
                    }
                }
            }
            long dataSize = type is LayerEntryType.File ? size : type is LayerEntryType.Directory or LayerEntryType.Symlink or LayerEntryType.HardLink ? 0 : size;
            var entry = new LayerEntry
            {
                Path = name,
                Type = type,
                Mode = (UnixFileMode)(ParseNumber(_block.AsSpan(100, 8)) & 0xFFF),
                Uid = (int)PaxNumber(pax, "uid", ParseNumber(_block.AsSpan(108, 8))),
                Gid = (int)PaxNumber(pax, "gid", ParseNumber(_block.AsSpan(116, 8))),
                ModificationTime = DateTimeOffset.FromUnixTimeSeconds(PaxNumber(pax, "mtime", ParseNumber(_block.AsSpan(136, 12)))),
                Size = type == LayerEntryType.File ? size : 0,
                LinkTarget = type is LayerEntryType.Symlink or LayerEntryType.HardLink ? link : null,
                DeviceMajor = type is LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice ? (int)ParseNumber(_block.AsSpan(329, 8)) : 0,
                DeviceMinor = type is LayerEntryType.CharacterDevice or LayerEntryType.BlockDevice ? (int)ParseNumber(_block.AsSpan(337, 8)) : 0,
                ExtendedAttributes = xattrs,
            };
            // Hard links and the like may carry a size in some writers; their bytes are skipped with the padding.
            _current = new BoundedReadStream(stream, dataSize, size + TarHeaderWriter.PaddingFor(size));
            return (entry, _current);
        }
    }

    private string UstarName()
    {
        string name = CString(_block.AsSpan(0, 100));
        bool ustar = _block.AsSpan(257, 5).SequenceEqual("ustar"u8);
        string prefix = ustar ? CString(_block.AsSpan(345, 155)) : "";
        return prefix.Length == 0 ? name : prefix + "/" + name;
    }

    private void VerifyChecksum()
    {
        long expected = ParseNumber(_block.AsSpan(148, 8));
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BlockSize; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : _block[i];
            unsigned += b;
            signed += (sbyte)b;
        }
        if (unsigned != expected && signed != expected) { throw new InvalidDataException("Not a tar archive, or a corrupt one: a header checksum does not match."); }
    }

    private async Task<bool> ReadBlockAsync(CancellationToken cancellationToken)
    {
        int filled = 0;
        while (filled < BlockSize)
        {
            int read = await stream.ReadAsync(_block.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return filled == 0 ? false : throw new InvalidDataException("The tar archive ends in the middle of a header.");
            }
            filled += read;
        }
        return true;
    }

    private async Task<byte[]> ReadMetadataAsync(long size, CancellationToken cancellationToken)
    {
        if (size is < 0 or > MaxMetadataSize) { throw new InvalidDataException($"A tar metadata record of {size} bytes is too large."); }
        byte[] data = new byte[size];
        await stream.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
        int padding = TarHeaderWriter.PaddingFor(size);
        if (padding > 0) { await stream.ReadExactlyAsync(_block.AsMemory(0, padding), cancellationToken).ConfigureAwait(false); }
        return data;
    }

    private static void ParsePax(ReadOnlySpan<byte> data, Dictionary<string, byte[]> records)
    {
        while (!data.IsEmpty)
        {
            int space = data.IndexOf((byte)' ');
            if (space <= 0 || !int.TryParse(Encoding.ASCII.GetString(data[..space]), NumberStyles.None, CultureInfo.InvariantCulture, out int length)
                || length > data.Length || length <= space + 1 || data[length - 1] != (byte)'\n')
            {
                throw new InvalidDataException("Malformed PAX extended header record.");
            }
            ReadOnlySpan<byte> record = data[(space + 1)..(length - 1)];
            int equals = record.IndexOf((byte)'=');
            if (equals <= 0) { throw new InvalidDataException("Malformed PAX extended header record (no '=')."); }
            records[Encoding.UTF8.GetString(record[..equals])] = record[(equals + 1)..].ToArray();
            data = data[length..];
        }
    }

    private static long PaxNumber(Dictionary<string, byte[]>? pax, string key, long fallback)
    {
        if (pax?.GetValueOrDefault(key) is not { } value) { return fallback; }
        string text = Encoding.ASCII.GetString(value);
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        return long.Parse(dot < 0 ? text : text[..dot], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    /// <summary>Octal (NUL/space terminated) or GNU base-256 (high bit of the first byte set).</summary>
    private static long ParseNumber(ReadOnlySpan<byte> field)
    {
        if (field.Length > 0 && (field[0] & 0x80) != 0)
        {
            long value = field[0] & 0x7F;
            foreach (byte b in field[1..]) { value = (value << 8) | b; }
            return value;
        }
        long result = 0;
        foreach (byte b in field)
        {
            if (b is (byte)' ' or 0)
            {
                if (result != 0) { break; }
                continue;
            }
            if (b is < (byte)'0' or > (byte)'7') { throw new InvalidDataException("Malformed number in a tar header."); }
            result = (result << 3) | (uint)(b - '0');
        }
        return result;
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? field : field[..nul]);
    }

    /// <summary>The content of one entry: <c>length</c> readable bytes out of <c>total</c> (content plus padding) consumed from the archive.</summary>
    private sealed class BoundedReadStream(Stream inner, long length, long total) : Stream
    {
        private long _position;
        private long _consumed;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            long left = length - _position;
            if (left <= 0 || buffer.IsEmpty) { return 0; }
            int read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, left)], cancellationToken).ConfigureAwait(false);
            if (read == 0) { throw new InvalidDataException("The tar archive ends in the middle of an entry."); }
            _position += read;
            _consumed += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public async Task SkipRestAsync(CancellationToken cancellationToken)
        {
            if (inner.CanSeek && total - _consumed > 64 * 1024)
            {
                // Seekable archive (a plain tar file): jump over the content instead of reading it.
                long target = inner.Position + (total - _consumed);
                if (target > inner.Length) { throw new InvalidDataException("The tar archive ends in the middle of an entry."); }
                inner.Seek(target, SeekOrigin.Begin);
                _consumed = total;
                return;
            }
            byte[] scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                while (_consumed < total)
                {
                    int read = await inner.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, total - _consumed)), cancellationToken).ConfigureAwait(false);
                    if (read == 0) { throw new InvalidDataException("The tar archive ends in the middle of an entry."); }
                    _consumed += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
