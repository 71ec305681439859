using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Oci.Locking;

namespace Dbuild.Solver.Store;

/// <summary>
/// <c>dbuild load</c>: reads a <c>docker save</c> archive (docker 20.10's, buildx's <c>type=docker</c>) or an OCI layout
/// archive (<c>dbuild save --format oci</c>, skopeo's and buildah's <c>oci-archive:</c>), checks every digest (a
/// docker-archive layer against its config's diffID, an OCI blob against its name), and only then moves the blobs into
/// the store and names the images. A corrupt archive stores nothing. Returns the lines docker's load prints.
/// </summary>
public sealed class ArchiveLoader(LocalImages images)
{
    /// <summary>Loads <paramref name="archive"/> (plain, gzip or zstd).</summary>
    /// <exception cref="InvalidContentException">The archive is neither format, is incomplete, or a digest does not match.</exception>
    public async Task<IReadOnlyList<string>> LoadAsync(Stream archive, CancellationToken cancellationToken = default)
    {
        ContentStore store = images.Store;
        using FileLock use = await StoreUse.ForWritingAsync(images.StateRoot, images.Waiting, cancellationToken).ConfigureAwait(false); // no prune while its blobs are unnamed
        Stream tar = await ArchiveDecompression.OpenAsync(archive, cancellationToken).ConfigureAwait(false);
        using ArchiveStaging staging = await ArchiveStaging.ReadAsync(store, tar, cancellationToken).ConfigureAwait(false);
        LoadPlan plan = staging.Find("manifest.json") is not null ? await DockerArchivePlan.ReadAsync(staging, cancellationToken).ConfigureAwait(false)
            : staging.Find(ContentStore.IndexFileName) is not null && staging.Find(ContentStore.LayoutFileName) is not null
                ? await OciArchivePlan.ReadAsync(staging, cancellationToken).ConfigureAwait(false)
                : throw new InvalidContentException("The archive is neither a docker save archive (it has no manifest.json) nor an OCI image layout (oci-layout and index.json).");
        foreach ((StagedFile file, string mediaType) in plan.Blobs.DistinctBy(b => b.File.Digest))
        {
            await store.CommitFileAsync(file.Path, file.Digest, file.Size, mediaType, cancellationToken).ConfigureAwait(false);
        }
        foreach ((byte[] bytes, string mediaType) in plan.Documents)
        {
            await store.WriteBlobAsync(bytes, mediaType, cancellationToken).ConfigureAwait(false);
        }
        var lines = new List<string>();
        foreach ((Descriptor top, IReadOnlyList<Reference> names) in plan.Images)
        {
            Digest id = (await images.ReadImageAsync(top, cancellationToken).ConfigureAwait(false)).Manifest.Config.Digest;
            if (names.Count == 0)
            {
                await store.AddUnnamedAsync(top, cancellationToken).ConfigureAwait(false);
                lines.Add($"Loaded image ID: {id}");
                continue;
            }
            foreach (Reference name in names)
            {
                lines.Add($"Loaded image: {name.FamiliarName}");
                if (await store.ResolveAsync(name.ToString(), cancellationToken).ConfigureAwait(false) is { } previous && previous.Digest != top.Digest)
                {
                    Digest? old = await ImageIdOrNullAsync(previous, cancellationToken).ConfigureAwait(false);
                    if (old == id) { continue; } // the same image (its config), stored before with other manifest bytes: the name stays
                    if (old is not null) { lines.Insert(lines.Count - 1, $"The image {name.FamiliarName} already exists, renaming the old one with ID {old} to empty string"); }
                }
                await store.TagAsync(name.ToString(), top, cancellationToken).ConfigureAwait(false);
            }
        }
        return lines;
    }

    private async Task<Digest?> ImageIdOrNullAsync(Descriptor descriptor, CancellationToken cancellationToken)
    {
        try { return (await images.ReadImageAsync(descriptor, cancellationToken).ConfigureAwait(false)).Manifest.Config.Digest; }
        catch (Exception ex) when (ex is BuildException or IOException or InvalidContentException) { return null; }
    }

    /// <summary>The compression of a staged layer, from its first bytes.</summary>
    internal static async Task<LayerCompression> CompressionOfAsync(StagedFile file, CancellationToken cancellationToken)
    {
        byte[] head = new byte[4];
        var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            int read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            return LayerReader.DetectCompression(head.AsSpan(0, read));
        }
    }

    /// <summary>The digest of a staged layer's uncompressed tar (its diffID).</summary>
    internal static async Task<Digest> DiffIdAsync(StagedFile file, CancellationToken cancellationToken)
    {
        Stream tar = await LayerReader.OpenDecompressedAsync(File.OpenRead(file.Path), leaveOpen: false, cancellationToken).ConfigureAwait(false);
        await using (tar.ConfigureAwait(false))
        {
            using var digesting = new DigestingReadStream(tar, leaveOpen: true);
            return await digesting.DrainAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Parses a small JSON document of the archive, naming it when it is not what it should be.</summary>
    internal static T Parse<T>(byte[] bytes, string name, Func<byte[], T> parse)
    {
        try { return parse(bytes); }
        catch (JsonException ex) { throw new InvalidContentException($"{name} in the archive is not valid JSON: {ex.Message}", ex); }
    }
}
