using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Dbuild.Oci.Layers;

/// <summary>
/// A forward-only tar reader that accepts and refuses what Go's archive/tar (containerd's and BuildKit's reader) does:
/// v7, ustar, star, GNU and old-GNU headers; PAX <c>x</c> records (later <c>x</c> headers replace earlier ones) and
/// <c>g</c> headers (skipped, as containerd does); GNU <c>L</c>/<c>K</c> long names; base-256 numbers; PAX GNU sparse
/// files (0.0, 0.1, 1.0). PAX values stay raw bytes, so binary xattrs such as <c>security.capability</c> survive.
/// The archive may end (cleanly) at a block boundary, after a single zero block, or inside the padding after an entry's
/// content; ending inside a header or inside content is an error naming the place.
/// </summary>
/// <remarks>https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_92_13_01</remarks>
[SuppressMessage("Design", "CA1001", Justification = "The per-entry stream is a view that owns nothing; the caller owns the archive stream.")]
internal sealed class TarStreamReader(Stream stream)
{
    private const int BlockSize = TarHeaderWriter.BlockSize;
    private const int MaxMetadataSize = 1024 * 1024;
    private readonly TarSource _source = new(stream);
    private readonly byte[] _block = new byte[BlockSize];
    private TarEntryStream? _current;
    private bool _ended;
    private string? _previous;

    /// <summary>The next entry (its <see cref="TarRecord.Data"/> valid until the next call), or null at the end of the archive.</summary>
    public async Task<TarRecord?> NextAsync(CancellationToken cancellationToken)
    {
        if (_current is not null)
        {
            bool more = await _current.SkipRestAsync(cancellationToken).ConfigureAwait(false);
            _current = null;
            _ended |= !more;
        }
        Dictionary<string, byte[]>? pax = null;
        string? longName = null;
        string? longLink = null;
        while (!_ended)
        {
            long headerOffset = _source.Offset;
            if (!await ReadHeaderAsync(headerOffset, cancellationToken).ConfigureAwait(false))
            {
                _ended = true;
                break;
            }
            TarFields.Format format = TarFields.Detect(_block);
            if (format == TarFields.Format.Unknown)
            {
                throw headerOffset == 0
                    ? new InvalidDataException("Not a tar archive: the first 512 bytes are not a tar header (the header checksum does not match).")
                    : Corrupt(headerOffset, null, "the header checksum does not match");
            }
            string name = HeaderName(format);
            byte typeflag = _block[156];
            long size = Number(124, 12, "size", name, headerOffset);
            switch (typeflag)
            {
                case (byte)'x' or (byte)'g':
                    byte[] data = await ReadMetadataAsync(size, name, headerOffset, cancellationToken).ConfigureAwait(false);
                    var records = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                    if (TarFields.ParsePax(data, records) is { } problem) { throw Corrupt(headerOffset, name, "malformed PAX header: " + problem); }
                    // A global header is an entry of its own in Go's reader, which containerd ignores: nothing carries over.
                    (pax, longName, longLink) = typeflag == 'x' ? (records, longName, longLink) : (null, null, null);
                    _ended |= !await SkipPaddingAsync(size, cancellationToken).ConfigureAwait(false);
                    continue;
                case (byte)'L' or (byte)'K':
                    string value = TarFields.CString(await ReadMetadataAsync(size, name, headerOffset, cancellationToken).ConfigureAwait(false));
                    if (typeflag == 'L') { longName = value; } else { longLink = value; }
                    _ended |= !await SkipPaddingAsync(size, cancellationToken).ConfigureAwait(false);
                    continue;
            }
            return await FinishAsync(format, name, typeflag, size, pax, longName, longLink, headerOffset, cancellationToken).ConfigureAwait(false);
        }
        return null;
    }

    private async Task<TarRecord> FinishAsync(TarFields.Format format, string name, byte typeflag, long size, Dictionary<string, byte[]>? pax,
        string? longName, string? longLink, long headerOffset, CancellationToken cancellationToken)
    {
        string link = TarFields.CString(_block.AsSpan(157, 100));
        long mode = Number(100, 8, "mode", name, headerOffset);
        long uid = Number(108, 8, "uid", name, headerOffset);
        long gid = Number(116, 8, "gid", name, headerOffset);
        DateTimeOffset mtime = TarFields.FromUnix(Number(136, 12, "mtime", name, headerOffset));
        bool device = typeflag is (byte)'3' or (byte)'4' && format != TarFields.Format.V7;
        long major = device ? Number(329, 8, "devmajor", name, headerOffset) : 0;
        long minor = device ? Number(337, 8, "devminor", name, headerOffset) : 0;
        Dictionary<string, byte[]>? xattrs = null;
        foreach ((string key, byte[] value) in pax ?? [])
        {
            if (value.Length == 0 && !key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal)) { continue; } // an empty value keeps the header's
            string text = Encoding.UTF8.GetString(value);
            bool ok = true;
            switch (key)
            {
                case "path": name = text; break;
                case "linkpath": link = text; break;
                case "uid": ok = TarFields.TryParseDecimal(value, out uid); break;
                case "gid": ok = TarFields.TryParseDecimal(value, out gid); break;
                case "size": ok = TarFields.TryParseDecimal(value, out size); break;
                case "mtime": ok = TarFields.TryParseTime(value, out mtime); break;
                case "atime" or "ctime": ok = TarFields.TryParseTime(value, out _); break;
                default:
                    if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal)) { (xattrs ??= new(StringComparer.Ordinal))[key["SCHILY.xattr.".Length..]] = value; }
                    else if (key.StartsWith("LIBARCHIVE.xattr.", StringComparison.Ordinal) && TryBase64(text, out byte[] decoded))
                    {
                        (xattrs ??= new(StringComparer.Ordinal)).TryAdd(Uri.UnescapeDataString(key["LIBARCHIVE.xattr.".Length..]), decoded);
                    }
                    break;
            }
            if (!ok) { throw Corrupt(headerOffset, name, $"the PAX '{key}' record '{text}' is not a valid number or time"); }
        }
        if (!string.IsNullOrEmpty(longName)) { name = longName; }
        if (!string.IsNullOrEmpty(longLink)) { link = longLink; }
        if (typeflag == 0) { typeflag = name.EndsWith('/') ? (byte)'5' : (byte)'0'; } // legacy archives mark directories by the slash
        bool headerOnly = typeflag is (byte)'1' or (byte)'2' or (byte)'3' or (byte)'4' or (byte)'5' or (byte)'6'; // their size is ignored
        if (size < 0 && !headerOnly) { throw Corrupt(headerOffset, name, $"negative size {size}"); }
        if (typeflag == 'S')
        {
            throw Corrupt(headerOffset, name, "an old-GNU sparse file (typeflag 'S'), which containerd does not unpack either; re-create the archive with GNU tar --format=pax");
        }

        long stored = headerOnly ? 0 : size;
        long dataOffset = _source.Offset;
        _current = new TarEntryStream(_source, name, stored);
        Stream data = stored == 0 ? Stream.Null : _current;
        if (TarSparseMap.Version(pax) is { } sparse)
        {
            if (headerOnly) { throw Corrupt(headerOffset, name, "a GNU sparse map on an entry that has no content"); }
            (name, size, data) = await SparseAsync(sparse, pax!, name, size, stored, headerOffset, cancellationToken).ConfigureAwait(false);
            dataOffset = -1;
        }
        _previous = name;
        return new TarRecord
        {
            Name = name,
            LinkName = link,
            TypeFlag = typeflag,
            Mode = mode,
            Uid = uid,
            Gid = gid,
            Size = headerOnly ? 0 : size,
            ModificationTime = mtime,
            DeviceMajor = major,
            DeviceMinor = minor,
            ExtendedAttributes = xattrs,
            DataOffset = dataOffset,
            Data = data,
        };
    }

    /// <summary>A PAX GNU sparse file: its real name and size, and its logical content built from the map.</summary>
    private async Task<(string Name, long Size, Stream Data)> SparseAsync(string version, Dictionary<string, byte[]> pax, string name, long size, long stored,
        long headerOffset, CancellationToken cancellationToken)
    {
        if (pax.GetValueOrDefault("GNU.sparse.name") is { Length: > 0 } sparseName) { name = Encoding.UTF8.GetString(sparseName); }
        byte[]? realSize = pax.GetValueOrDefault("GNU.sparse.size") is { Length: > 0 } s ? s : pax.GetValueOrDefault("GNU.sparse.realsize");
        if (realSize is { Length: > 0 } && !TarFields.TryParseDecimal(realSize, out size)) { throw Corrupt(headerOffset, name, "the GNU sparse size is not a number"); }
        List<(long Offset, long Length)>? map;
        long consumed = 0;
        if (version == "1.0") { (map, consumed) = await TarSparseMap.ReadAsync(_current!, cancellationToken).ConfigureAwait(false); }
        else { map = TarSparseMap.FromRecords(pax); }
        if (map is null || !TarSparseMap.IsValid(map, size)) { throw Corrupt(headerOffset, name, "malformed GNU sparse map"); }
        long mapped = map.Sum(f => f.Length);
        if (mapped != stored - consumed)
        {
            throw Corrupt(headerOffset, name, $"the GNU sparse map covers {mapped} bytes but {stored - consumed} are stored");
        }
        return (name, size, new SparseReadStream(_current!, map, size));
    }

    /// <summary>Reads a header block; false at a clean end: no more bytes, one zero block then nothing, or two zero blocks.</summary>
    private async Task<bool> ReadHeaderAsync(long offset, CancellationToken cancellationToken)
    {
        int filled = await _source.FillAsync(_block, cancellationToken).ConfigureAwait(false);
        if (filled == 0) { return false; }
        if (filled < BlockSize) { throw Truncated(offset, filled); }
        if (_block.AsSpan().ContainsAnyExcept((byte)0)) { return true; }
        filled = await _source.FillAsync(_block, cancellationToken).ConfigureAwait(false);
        if (filled == 0) { return false; }
        if (filled < BlockSize) { throw Truncated(offset + BlockSize, filled); }
        if (!_block.AsSpan().ContainsAnyExcept((byte)0)) { return false; }
        throw Corrupt(offset, null, "a single zero block (half an end-of-archive marker) is followed by more data");
    }

    private async Task<byte[]> ReadMetadataAsync(long size, string name, long headerOffset, CancellationToken cancellationToken)
    {
        if (size is < 0 or > MaxMetadataSize) { throw Corrupt(headerOffset, name, $"an extension header of {size} bytes (at most {MaxMetadataSize} are accepted)"); }
        byte[] data = new byte[size];
        int filled = await _source.FillAsync(data, cancellationToken).ConfigureAwait(false);
        if (filled < size) { throw new InvalidDataException($"The tar archive ends inside the extension header '{name}' at offset {headerOffset} ({filled} of {size} bytes): the layer is truncated."); }
        return data;
    }

    private async Task<bool> SkipPaddingAsync(long size, CancellationToken cancellationToken)
    {
        int padding = TarHeaderWriter.PaddingFor(size);
        return await _source.SkipAsync(padding, cancellationToken).ConfigureAwait(false) == padding;
    }

    /// <summary>The name field, extended by the prefix field in ustar (155 bytes) and star (131 bytes) headers.</summary>
    private string HeaderName(TarFields.Format format)
    {
        string name = TarFields.CString(_block.AsSpan(0, 100));
        string prefix = format switch
        {
            TarFields.Format.Ustar => TarFields.CString(_block.AsSpan(345, 155)),
            TarFields.Format.Star => TarFields.CString(_block.AsSpan(345, 131)),
            _ => "",
        };
        return prefix.Length == 0 ? name : prefix + "/" + name;
    }

    private long Number(int offset, int length, string field, string name, long headerOffset) =>
        TarFields.TryParseNumber(_block.AsSpan(offset, length), out long value) ? value : throw Corrupt(headerOffset, name, $"its {field} field is not a number");

    private static bool TryBase64(string text, out byte[] value)
    {
        value = new byte[text.Length];
        bool ok = Convert.TryFromBase64String(text, value, out int written);
        value = ok ? value[..written] : [];
        return ok;
    }

    private InvalidDataException Corrupt(long offset, string? name, string what) =>
        new(name is not null
            ? $"Corrupt tar entry '{name}' (header at offset {offset}): {what}."
            : $"Corrupt tar header at offset {offset}{(_previous is null ? "" : $" (after entry '{_previous}')")}: {what}.");

    private InvalidDataException Truncated(long offset, int filled) =>
        new($"The tar archive ends inside a header at offset {offset} ({filled} of {BlockSize} bytes{(_previous is null ? "" : $", after entry '{_previous}'")}): the layer is truncated.");
}
