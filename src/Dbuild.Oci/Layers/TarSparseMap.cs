using System.Text;

namespace Dbuild.Oci.Layers;

/// <summary>
/// GNU sparse files in PAX archives (formats 0.0, 0.1 and 1.0, what GNU tar <c>--sparse --format=pax</c> writes), read
/// as Go's archive/tar reads them: the map comes from PAX records (0.x) or from the start of the stored data (1.0).
/// The old GNU <c>S</c> typeflag is not handled here: containerd refuses it, so the reader does too.
/// </summary>
internal static class TarSparseMap
{
    private const int MaxFragments = 1 << 20;

    /// <summary>The sparse format named by the records: "0.x", "1.0", or null when the entry is not (a known kind of) sparse.</summary>
    public static string? Version(Dictionary<string, byte[]>? pax)
    {
        if (pax is null) { return null; }
        string major = Text(pax, "GNU.sparse.major");
        string minor = Text(pax, "GNU.sparse.minor");
        return (major, minor) switch
        {
            ("0", "0" or "1") => "0.x",
            ("1", "0") => "1.0",
            _ when major.Length > 0 || minor.Length > 0 => null,
            _ => Text(pax, "GNU.sparse.map").Length > 0 ? "0.x" : null,
        };
    }

    /// <summary>The 0.0/0.1 map from <c>GNU.sparse.numblocks</c> and <c>GNU.sparse.map</c>; null when malformed.</summary>
    public static List<(long Offset, long Length)>? FromRecords(Dictionary<string, byte[]> pax)
    {
        if (!TarFields.TryParseDecimal(pax.GetValueOrDefault("GNU.sparse.numblocks") ?? [], out long count) || count is < 0 or > MaxFragments) { return null; }
        string map = Text(pax, "GNU.sparse.map");
        string[] numbers = map.Length == 0 ? [] : map.Split(',');
        return numbers.Length == 2 * count ? Pairs(numbers) : null;
    }

    /// <summary>The 1.0 map: decimal lines (count, then offset/length pairs) in whole blocks at the start of the stored data.</summary>
    public static async Task<(List<(long Offset, long Length)>? Map, long Consumed)> ReadAsync(Stream stored, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        byte[] block = new byte[TarHeaderWriter.BlockSize];
        long consumed = 0;
        int newlines = 0;
        long? count = null;
        var numbers = new List<string>();
        while (count is null || numbers.Count < 2 * count)
        {
            if (newlines == 0)
            {
                if (await stored.ReadAtLeastAsync(block, block.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < block.Length)
                {
                    return (null, consumed); // the map runs past the stored data
                }
                consumed += block.Length;
                string chunk = Encoding.ASCII.GetString(block);
                text.Append(chunk);
                newlines += chunk.Count(c => c == '\n');
                if (newlines == 0) { continue; }
            }
            string all = text.ToString();
            int nl = all.IndexOf('\n', StringComparison.Ordinal);
            string token = all[..nl];
            text.Remove(0, nl + 1);
            newlines--;
            if (count is null)
            {
                if (!long.TryParse(token, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n) || n > MaxFragments) { return (null, consumed); }
                count = n;
            }
            else
            {
                numbers.Add(token);
            }
        }
        return (Pairs([.. numbers]), consumed);
    }

    /// <summary>Sorted, non-overlapping, non-negative fragments that end within <paramref name="size"/>, as Go requires.</summary>
    public static bool IsValid(List<(long Offset, long Length)> map, long size)
    {
        long previousEnd = 0;
        foreach ((long offset, long length) in map)
        {
            if (offset < 0 || length < 0 || offset > long.MaxValue - length || offset + length > size || offset < previousEnd) { return false; }
            previousEnd = offset + length;
        }
        return true;
    }

    private static List<(long Offset, long Length)>? Pairs(string[] numbers)
    {
        var map = new List<(long, long)>(numbers.Length / 2);
        for (int i = 0; i + 1 < numbers.Length; i += 2)
        {
            if (!TarFields.TryParseDecimal(Encoding.ASCII.GetBytes(numbers[i]), out long offset)
                || !TarFields.TryParseDecimal(Encoding.ASCII.GetBytes(numbers[i + 1]), out long length))
            {
                return null;
            }
            map.Add((offset, length));
        }
        return map;
    }

    private static string Text(Dictionary<string, byte[]> pax, string key) =>
        pax.TryGetValue(key, out byte[]? value) ? Encoding.UTF8.GetString(value) : "";
}
