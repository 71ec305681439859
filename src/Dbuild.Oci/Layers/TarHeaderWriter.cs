using System.Buffers;
using System.Globalization;
using System.Text;

namespace Dbuild.Oci.Layers;

/// <summary>
/// Writes ustar headers, preceded by a PAX extended header (typeflag <c>x</c>) when a field does not fit ustar
/// (long or non-ASCII names, big sizes or ids, xattrs). User and group names are left empty, mtimes are whole seconds,
/// atime/ctime are never written: the same entry always gives the same bytes.
/// </summary>
/// <remarks>https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_92_13_03</remarks>
internal static class TarHeaderWriter
{
    public const int BlockSize = 512;
    private const long MaxOctal7 = 0x1FFFFF; // 07777777
    private const long MaxOctal11 = 0x1FFFFFFFF; // 077777777777

    public static byte[] Build(LayerEntry entry, long mtimeSeconds)
    {
        string name = entry.Type == LayerEntryType.Directory ? entry.Path + "/" : entry.Path;
        string link = entry.LinkTarget ?? "";
        var records = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (!FitsUstar(name, 100)) { records["path"] = Encoding.UTF8.GetBytes(name); }
        if (!FitsUstar(link, 100)) { records["linkpath"] = Encoding.UTF8.GetBytes(link); }
        long size = entry.Type == LayerEntryType.File ? entry.Size : 0;
        if (size > MaxOctal11) { records["size"] = Ascii(size); }
        if (entry.Uid is < 0 or > (int)MaxOctal7) { records["uid"] = Ascii(entry.Uid); }
        if (entry.Gid is < 0 or > (int)MaxOctal7) { records["gid"] = Ascii(entry.Gid); }
        if (entry.ExtendedAttributes is { } xattrs)
        {
            foreach ((string key, byte[] value) in xattrs) { records["SCHILY.xattr." + key] = value; }
        }

        var output = new ArrayBufferWriter<byte>(BlockSize * 2);
        if (records.Count > 0)
        {
            byte[] pax = EncodePaxRecords(records);
            int slash = name.TrimEnd('/').LastIndexOf('/');
            string paxName = (slash < 0 ? "" : name[..(slash + 1)]) + "PaxHeaders.0/" + name.TrimEnd('/')[(slash + 1)..];
            WriteUstar(output, Truncate(paxName, 100), "", 'x', 0b110_100_100, 0, 0, pax.Length, mtimeSeconds, 0, 0);
            output.Write(pax);
            Pad(output, pax.Length);
        }

        char typeflag = entry.Type switch
        {
            LayerEntryType.File => '0',
            LayerEntryType.HardLink => '1',
            LayerEntryType.Symlink => '2',
            LayerEntryType.CharacterDevice => '3',
            LayerEntryType.BlockDevice => '4',
            LayerEntryType.Directory => '5',
            LayerEntryType.Fifo => '6',
            _ => throw new ArgumentOutOfRangeException(nameof(entry), entry.Type, "unknown entry type"),
        };
        WriteUstar(output, Truncate(name, 100), Truncate(link, 100), typeflag, (int)entry.Mode & 0xFFF,
            Math.Clamp(entry.Uid, 0, (int)MaxOctal7), Math.Clamp(entry.Gid, 0, (int)MaxOctal7), Math.Min(size, MaxOctal11),
            mtimeSeconds, entry.DeviceMajor, entry.DeviceMinor);
        return output.WrittenSpan.ToArray();
    }

    public static int PaddingFor(long size) => (int)((BlockSize - (size % BlockSize)) % BlockSize);

    private static bool FitsUstar(string value, int max) => value.Length <= max && Ascii7(value);

    private static bool Ascii7(string value)
    {
        foreach (char c in value) { if (c is '\0' or > (char)0x7F) { return false; } }
        return true;
    }

    private static string Truncate(string value, int max)
    {
        if (FitsUstar(value, max)) { return value; }
        var builder = new StringBuilder(max);
        foreach (char c in value)
        {
            if (builder.Length == max) { break; }
            builder.Append(c is '\0' or > (char)0x7F ? '_' : c);
        }
        return builder.ToString();
    }

    private static byte[] Ascii(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    private static byte[] EncodePaxRecords(SortedDictionary<string, byte[]> records)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach ((string key, byte[] value) in records)
        {
            byte[] keyBytes = Encoding.UTF8.GetBytes(key);
            int body = 1 + keyBytes.Length + 1 + value.Length + 1; // ' ' key '=' value '\n'
            int length = body + 1;
            while (length != body + length.ToString(CultureInfo.InvariantCulture).Length)
            {
                length = body + length.ToString(CultureInfo.InvariantCulture).Length;
            }
            output.Write(Encoding.ASCII.GetBytes(length.ToString(CultureInfo.InvariantCulture) + " "));
            output.Write(keyBytes);
            output.Write("="u8);
            output.Write(value);
            output.Write("\n"u8);
        }
        return output.WrittenSpan.ToArray();
    }

    private static void WriteUstar(ArrayBufferWriter<byte> output, string name, string link, char typeflag, int mode,
        int uid, int gid, long size, long mtime, int devMajor, int devMinor)
    {
        Span<byte> block = output.GetSpan(BlockSize)[..BlockSize];
        block.Clear();
        Encoding.ASCII.GetBytes(name, block[..100]);
        Octal(block.Slice(100, 8), mode);
        Octal(block.Slice(108, 8), uid);
        Octal(block.Slice(116, 8), gid);
        Octal(block.Slice(124, 12), size);
        Octal(block.Slice(136, 12), Math.Clamp(mtime, 0, MaxOctal11));
        block[156] = (byte)typeflag;
        Encoding.ASCII.GetBytes(link, block.Slice(157, 100));
        "ustar\0"u8.CopyTo(block[257..]);
        "00"u8.CopyTo(block[263..]);
        if (typeflag is '3' or '4')
        {
            Octal(block.Slice(329, 8), devMajor);
            Octal(block.Slice(337, 8), devMinor);
        }
        else
        {
            Octal(block.Slice(329, 8), 0);
            Octal(block.Slice(337, 8), 0);
        }
        block.Slice(148, 8).Fill((byte)' ');
        int checksum = 0;
        foreach (byte b in block) { checksum += b; }
        Octal(block.Slice(148, 7), checksum);
        block[155] = (byte)' ';
        output.Advance(BlockSize);
    }

    /// <summary>Zero-padded octal digits filling the field except its last byte, which is NUL.</summary>
    private static void Octal(Span<byte> field, long value)
    {
        int digits = field.Length - 1;
        for (int i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }
        field[digits] = 0;
    }

    private static void Pad(ArrayBufferWriter<byte> output, long size)
    {
        int padding = PaddingFor(size);
        if (padding > 0)
        {
            output.GetSpan(padding)[..padding].Clear();
            output.Advance(padding);
        }
    }
}
