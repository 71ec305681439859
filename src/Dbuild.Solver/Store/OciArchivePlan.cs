using Dbuild.Oci;

namespace Dbuild.Solver.Store;

/// <summary>
/// An OCI layout archive turned into a <see cref="LoadPlan"/>: every blob must match its name; each <c>index.json</c>
/// entry (an image or an index, whose platform images are taken when complete) with the blobs it reaches. Its name is
/// containerd's <c>io.containerd.image.name</c>, else a <c>org.opencontainers.image.ref.name</c> that is a whole
/// reference (skopeo's <c>oci-archive:F:name:tag</c>); a bare tag such as <c>latest</c> names nothing.
/// </summary>
internal static class OciArchivePlan
{
    public static async Task<LoadPlan> ReadAsync(ArchiveStaging staging, CancellationToken cancellationToken)
    {
        var plan = new LoadPlan();
        ImageIndex index = ArchiveLoader.Parse((await staging.ReadSmallAsync(ContentStore.IndexFileName, cancellationToken).ConfigureAwait(false))!,
            ContentStore.IndexFileName, b => ImageIndex.Parse(b));
        foreach (Descriptor entry in index.Manifests)
        {
            if (!MediaTypes.IsManifest(entry.MediaType) && !MediaTypes.IsIndex(entry.MediaType)) { continue; }
            if (!await AddAsync(staging, plan, entry, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidContentException($"index.json names {entry.Digest}, which the archive does not hold in full. Nothing was loaded.");
            }
            plan.Images.Add((entry with { Annotations = null }, NameOf(entry) is { } name ? [name] : []));
        }
        return plan;
    }

    /// <summary>Adds a manifest (with its config and layers) or an index (with its complete children); false when incomplete.</summary>
    private static async Task<bool> AddAsync(ArchiveStaging staging, LoadPlan plan, Descriptor descriptor, CancellationToken cancellationToken)
    {
        if (Blob(staging, descriptor) is not { } file) { return false; }
        byte[] bytes = (await staging.ReadSmallAsync(BlobPath(descriptor.Digest), cancellationToken).ConfigureAwait(false))!;
        var blobs = new List<(StagedFile, string)> { (file, descriptor.MediaType) };
        if (MediaTypes.IsIndex(descriptor.MediaType))
        {
            int complete = 0;
            foreach (Descriptor child in ImageIndex.Parse(bytes).Manifests)
            {
                if (await AddAsync(staging, plan, child, cancellationToken).ConfigureAwait(false)) { complete++; }
            }
            if (complete == 0) { return false; }
        }
        else
        {
            ImageManifest manifest = ImageManifest.Parse(bytes);
            foreach (Descriptor blob in (IEnumerable<Descriptor>)[manifest.Config, .. manifest.Layers])
            {
                if (Blob(staging, blob) is not { } part) { return false; }
                blobs.Add((part, blob.MediaType));
            }
        }
        plan.Blobs.AddRange(blobs);
        return true;
    }

    /// <summary>The staged blob a descriptor names, checked against its digest and size.</summary>
    private static StagedFile? Blob(ArchiveStaging staging, Descriptor descriptor)
    {
        if (staging.Find(BlobPath(descriptor.Digest)) is not { } file) { return null; }
        if (file.Digest != descriptor.Digest)
        {
            throw new InvalidContentException($"{BlobPath(descriptor.Digest)} in the archive does not match its name: its content is {file.Digest}. Nothing was loaded.");
        }
        return file.Size == descriptor.Size ? file
            : throw new InvalidContentException($"{BlobPath(descriptor.Digest)} in the archive has {file.Size} bytes; its descriptor says {descriptor.Size}. Nothing was loaded.");
    }

    private static string BlobPath(Digest digest) => $"blobs/{digest.Algorithm}/{digest.Encoded}";

    private static Reference? NameOf(Descriptor entry)
    {
        string? name = entry.Annotations?.GetValueOrDefault(ContentStore.ImageNameAnnotation);
        if (name is null && entry.Annotations?.GetValueOrDefault(ContentStore.RefNameAnnotation) is { } refName && (refName.Contains('/', StringComparison.Ordinal) || refName.Contains(':', StringComparison.Ordinal)))
        {
            name = refName;
        }
        return name is not null && Reference.TryParse(name, out Reference? reference, out _) ? reference : null;
    }
}
