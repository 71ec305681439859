using System.Buffers.Binary;
using System.IO.Compression;

namespace Dbuild.IntegrationTests.Registry.Ui;

/// <summary>
/// The pixels of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's screenshots are): enough to check that a
/// screenshot shows something, i.e. how many distinct colours it has and how much of it is not white.
/// </summary>
internal sealed class PngPixels
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private PngPixels(int width, int height, int[] rgb) => (Width, Height, Rgb) = (width, height, rgb);

    public int Width { get; }

    public int Height { get; }

    /// <summary>Each pixel as 0xRRGGBB, row by row.</summary>
    public int[] Rgb { get; }

    public int DistinctColours => Rgb.Distinct().Count();

    public double NonWhiteFraction => Rgb.Count(p => p != 0xFFFFFF) / (double)Rgb.Length;

    public static PngPixels Decode(byte[] png)
    {
        if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(Signature)) { throw new InvalidDataException("not a PNG"); }
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (int at = 8; at + 8 <= png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(png, at + 4, 4);
            ReadOnlySpan<byte> data = png.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                (width, height) = (BinaryPrimitives.ReadInt32BigEndian(data), BinaryPrimitives.ReadInt32BigEndian(data[4..]));
                if (data[8] != 8 || data[12] != 0) { throw new InvalidDataException($"bit depth {data[8]}, interlace {data[12]}: only 8-bit non-interlaced"); }
                channels = data[9] switch { 2 => 3, 6 => 4, _ => throw new InvalidDataException($"colour type {data[9]}: only RGB and RGBA") };
            }
            else if (type == "IDAT") { idat.Write(data); }
            else if (type == "IEND") { break; }
            at += 12 + length;
        }
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress)) { zlib.CopyTo(inflated); }
        byte[] raw = inflated.ToArray();
        int stride = width * channels;
        var previous = new byte[stride];
        var current = new byte[stride];
        var pixels = new int[width * height];
        for (int y = 0; y < height; y++)
        {
            int row = y * (stride + 1);
            byte filter = raw[row];
            for (int x = 0; x < stride; x++)
            {
                int a = x >= channels ? current[x - channels] : 0, b = previous[x], c = x >= channels ? previous[x - channels] : 0;
                int value = raw[row + 1 + x];
                current[x] = (byte)(filter switch
                {
                    0 => value,
                    1 => value + a,
                    2 => value + b,
                    3 => value + ((a + b) >> 1),
                    4 => value + Paeth(a, b, c),
                    _ => throw new InvalidDataException($"filter {filter} on row {y}"),
                });
            }
            for (int x = 0; x < width; x++)
            {
                int p = x * channels;
                pixels[y * width + x] = (current[p] << 16) | (current[p + 1] << 8) | current[p + 2];
            }
            (previous, current) = (current, previous);
        }
        return new PngPixels(width, height, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
