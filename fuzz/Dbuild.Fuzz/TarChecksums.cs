using System.Text;

namespace Dbuild.Fuzz;

/// <summary>
/// Rewrites the checksum of every header block of a tar as a writer would: mutations almost never keep a header's
/// checksum right, so without this afl-fuzz spends its time on inputs the reader refuses at the first block.
/// </summary>
internal static class TarChecksums
{
    private const int Block = 512;

    public static byte[] Fix(byte[] input)
    {
        byte[] tar = (byte[])input.Clone();
        long offset = 0;
        while (offset + Block <= tar.Length)
        {
            Span<byte> header = tar.AsSpan((int)offset, Block);
            offset += Block;
            if (!header.ContainsAnyExcept((byte)0)) { continue; } // end-of-archive blocks
            header.Slice(148, 8).Fill((byte)' ');
            int sum = 0;
            foreach (byte b in header) { sum += b; }
            Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ", header.Slice(148, 8));
            offset += (Size(header.Slice(124, 12)) + Block - 1) / Block * Block;
        }
        return tar;
    }

    private static long Size(ReadOnlySpan<byte> field)
    {
        if (field[0] == 0x80) // base-256, as GNU tar writes sizes past 8 GiB
        {
            long value = 0;
            foreach (byte b in field[1..]) { value = (value << 8) | b; }
            return value is >= 0 and < int.MaxValue ? value : int.MaxValue;
        }
        ReadOnlySpan<byte> digits = field.Trim((byte)' ').TrimEnd((byte)0).Trim((byte)' ');
        long size = 0;
        foreach (byte d in digits)
        {
            if (d is < (byte)'0' or > (byte)'7') { return 0; }
            size = size * 8 + (d - '0');
            if (size >= int.MaxValue) { return int.MaxValue; }
        }
        return size;
    }
}
