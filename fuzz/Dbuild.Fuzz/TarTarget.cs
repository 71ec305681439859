using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Fuzz;

/// <summary>
/// The layer reader extraction and the layer index use: every entry, every regular file's content read to its end and
/// checked against its declared size; then the same bytes with every header's checksum made right. Documented refusals: <see cref="InvalidDataException"/> (corrupt, truncated,
/// unsupported) and <see cref="UnsafeLayerEntryException"/> (a path or link escaping the root).
/// </summary>
internal static class TarTarget
{
    public static void Run(byte[] input)
    {
        Read(input);
        if (LayerReader.DetectCompression(input) != LayerCompression.None) { return; }
        byte[] fixedUp = TarChecksums.Fix(input);
        if (!fixedUp.AsSpan().SequenceEqual(input)) { Read(fixedUp); }
    }

    private static void Read(byte[] input)
    {
        try
        {
            // SharpFuzz hands a synchronous callback; the reader's streams are in memory, so this waits on no I/O.
            Task.Run(() => ReadAllAsync(input)).GetAwaiter().GetResult();
        }
        catch (InvalidDataException)
        {
        }
        catch (UnsafeLayerEntryException)
        {
        }
    }

    private static async Task ReadAllAsync(byte[] input)
    {
        using var blob = new MemoryStream(input, writable: false);
        byte[] buffer = new byte[64 * 1024];
        await foreach (LayerEntry entry in LayerReader.ReadAsync(blob))
        {
            if (entry.Path.Length == 0) { throw new FuzzPropertyException("an entry with an empty path was returned"); }
            if (entry.OpenContent is null) { continue; }
            Stream content = entry.OpenContent();
            long total = 0;
            int read;
            while ((read = await content.ReadAsync(buffer)) > 0) { total += read; }
            if (total != entry.Size) { throw new FuzzPropertyException($"{entry.Path}: read {total} bytes of a {entry.Size}-byte entry"); }
        }
    }
}
