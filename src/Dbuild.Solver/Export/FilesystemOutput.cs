using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver.Export;

/// <summary>The outputs that are a filesystem rather than an image: type=local (a directory) and type=tar.</summary>
internal static class FilesystemOutput
{
    /// <summary>type=tar: a directory's tree as an uncompressed tar, to the file or to stdout for <c>dest=-</c>.</summary>
    public static async Task WriteTarAsync(BuilderOptions options, BuildRequest request, BuildOutput output, string dir, CancellationToken cancellationToken)
    {
        Stream file = output.Destination == "-" ? Console.OpenStandardOutput() : File.Create(output.Destination!);
        await using (file.ConfigureAwait(false))
        {
            await LayerWriter.WriteDirectoryAsync(dir, file, new LayerWriterOptions { Compression = LayerCompression.None, SourceDateEpoch = request.SourceDateEpoch },
                options.FileSystem, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>type=local: the layers unpacked in order into <paramref name="destination"/>.</summary>
    public static async Task ExtractAsync(ContentStore store, BuilderOptions options, IReadOnlyList<LayerRef> layers, string destination, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        foreach (LayerRef layer in layers)
        {
            Stream blob = store.OpenBlob(layer.Blob.Digest);
            await using (blob.ConfigureAwait(false))
            {
                await LayerExtractor.ExtractAsync(blob, destination, new LayerExtractOptions
                {
                    PreserveOwnership = Environment.UserName == "root",
                    AllowDeviceNodes = Environment.UserName == "root",
                    FileSystem = options.FileSystem,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
