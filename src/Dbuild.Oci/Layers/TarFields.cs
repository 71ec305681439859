using System.Globalization;
using System.Text;

namespace Dbuild.Oci.Layers;

/// <summary>
/// Field decoding for tar headers and PAX records, accepting and refusing what Go's archive/tar does (the reader
/// containerd and BuildKit unpack layers with): octal numbers padded with spaces or NULs, GNU base-256 numbers
/// (negative ones too), PAX records <c>"%d %s=%s\n"</c> and PAX times with a fraction.
/// </summary>
internal static class TarFields
{
    /// <summary>Which header layout a block uses: decides whether the prefix field extends the name.</summary>
    public enum Format
    {
        /// <summary>The checksum does not match: not a header.</summary>
        Unknown,

        /// <summary>No magic: name is the 100-byte field alone, no device numbers.</summary>
        V7,

        /// <summary><c>ustar\0</c>: POSIX ustar or pax; the 155-byte prefix field extends the name.</summary>
        Ustar,

        /// <summary><c>ustar\0</c> with <c>tar\0</c> at offset 508: star, whose prefix field is 131 bytes.</summary>
        Star,

        /// <summary><c>ustar </c>: GNU and old GNU; no prefix (those bytes hold atime, ctime and sparse data).</summary>
        Gnu,
    }

    /// <summary>The block's format from its magic, or <see cref="Format.Unknown"/> when the checksum (signed or unsigned sum) does not match.</summary>
    public static Format Detect(ReadOnlySpan<byte> block)
    {
        if (!TryParseOctal(block.Slice(148, 8), out long expected)) { return Format.Unknown; }
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < block.Length; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : block[i];
            unsigned += b;
            signed += (sbyte)b;
        }
        if (unsigned != expected && signed != expected) { return Format.Unknown; }
        ReadOnlySpan<byte> magic = block.Slice(257, 6);
        if (magic.SequenceEqual("ustar\0"u8)) { return block.Slice(508, 4).SequenceEqual("tar\0"u8) ? Format.Star : Format.Ustar; }
        return magic.SequenceEqual("ustar "u8) && block.Slice(263, 2).SequenceEqual(" \0"u8) ? Format.Gnu : Format.V7;
    }

    /// <summary>A numeric field: base-256 when the first byte's high bit is set (two's complement), else octal.</summary>
    public static bool TryParseNumber(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        if (field.IsEmpty || (field[0] & 0x80) == 0) { return TryParseOctal(field, out value); }
        byte invert = (field[0] & 0x40) != 0 ? (byte)0xFF : (byte)0;
        ulong x = 0;
        for (int i = 0; i < field.Length; i++)
        {
            byte c = (byte)(field[i] ^ invert);
            if (i == 0) { c &= 0x7F; }
            if ((x >> 56) != 0) { return false; }
            x = (x << 8) | c;
        }
        if ((x >> 63) != 0) { return false; }
        value = invert == 0xFF ? ~(long)x : (long)x;
        return true;
    }

    /// <summary>Octal, with leading and trailing spaces and NULs ignored and the digits ending at the first NUL.</summary>
    private static bool TryParseOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        field = field.Trim(" \0"u8);
        int nul = field.IndexOf((byte)0);
        if (nul >= 0) { field = field[..nul]; }
        if (field.IsEmpty) { return true; }
        ulong x = 0;
        foreach (byte b in field)
        {
            if (b is < (byte)'0' or > (byte)'7' || (x >> 61) != 0) { return false; }
            x = (x << 3) | (uint)(b - '0');
        }
        value = (long)x;
        return value >= 0;
    }

    /// <summary>A NUL-terminated string field (the whole field when it has no NUL).</summary>
    public static string CString(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? field : field[..nul]);
    }

    /// <summary>
    /// Parses the records of a PAX extended header into <paramref name="records"/> (later records win). GNU sparse 0.0
    /// offset/numbytes pairs, which repeat, are collected into <c>GNU.sparse.map</c> as Go does.
    /// </summary>
    /// <returns>Null when well formed, else what is wrong.</returns>
    public static string? ParsePax(ReadOnlySpan<byte> data, Dictionary<string, byte[]> records)
    {
        List<string>? sparse = null;
        while (!data.IsEmpty)
        {
            int space = data.IndexOf((byte)' ');
            if (space <= 0 || !long.TryParse(data[..space], NumberStyles.None, CultureInfo.InvariantCulture, out long length)
                || length < 5 || length > data.Length || length <= space + 1 || data[(int)length - 1] != (byte)'\n')
            {
                return "a record's length is missing or wrong";
            }
            ReadOnlySpan<byte> record = data[(space + 1)..((int)length - 1)];
            int equals = record.IndexOf((byte)'=');
            if (equals <= 0) { return "a record has no keyword"; }
            string key = Encoding.UTF8.GetString(record[..equals]);
            ReadOnlySpan<byte> value = record[(equals + 1)..];
            bool nameLike = key is "path" or "linkpath" or "uname" or "gname";
            if ((nameLike ? value : record[..equals]).Contains((byte)0)) { return $"the '{key}' record holds a NUL byte"; }
            if (key is "GNU.sparse.offset" or "GNU.sparse.numbytes")
            {
                sparse ??= [];
                if ((sparse.Count % 2 == 0) != (key == "GNU.sparse.offset") || value.Contains((byte)',')) { return "GNU sparse 0.0 records are out of order"; }
                sparse.Add(Encoding.ASCII.GetString(value));
            }
            else
            {
                records[key] = value.ToArray();
            }
            data = data[(int)length..];
        }
        if (sparse is not null) { records["GNU.sparse.map"] = Encoding.ASCII.GetBytes(string.Join(',', sparse)); }
        return null;
    }

    /// <summary>A decimal PAX integer (sign allowed, nothing else).</summary>
    public static bool TryParseDecimal(ReadOnlySpan<byte> value, out long result) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result);

    /// <summary>A PAX time: seconds since the epoch, optionally with a fraction (kept to 100 ns; more digits are cut).</summary>
    public static bool TryParseTime(ReadOnlySpan<byte> value, out DateTimeOffset time)
    {
        time = DateTimeOffset.UnixEpoch;
        int dot = value.IndexOf((byte)'.');
        ReadOnlySpan<byte> fraction = dot < 0 ? [] : value[(dot + 1)..];
        if (!TryParseDecimal(dot < 0 ? value : value[..dot], out long seconds) || fraction.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            return false;
        }
        long ticks = 0;
        for (int i = 0; i < 7; i++) { ticks = ticks * 10 + (i < fraction.Length ? fraction[i] - '0' : 0); }
        if (value.Length > 0 && value[0] == '-') { ticks = -ticks; }
        time = FromUnix(seconds, ticks);
        return true;
    }

    /// <summary>Seconds (plus ticks) since the epoch; times DateTimeOffset cannot hold become the epoch, as containerd's boundTime does.</summary>
    public static DateTimeOffset FromUnix(long seconds, long ticks = 0)
    {
        const long MinSeconds = -62135596800; // 0001-01-01
        const long MaxSeconds = 253402300799; // 9999-12-31T23:59:59
        if (seconds is < MinSeconds or > MaxSeconds) { return DateTimeOffset.UnixEpoch; }
        long total = DateTimeOffset.UnixEpoch.Ticks + seconds * TimeSpan.TicksPerSecond + ticks;
        return total < DateTimeOffset.MinValue.Ticks || total > DateTimeOffset.MaxValue.Ticks ? DateTimeOffset.UnixEpoch : new DateTimeOffset(total, TimeSpan.Zero);
    }
}
