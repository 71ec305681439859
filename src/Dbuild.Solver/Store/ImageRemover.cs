using Dbuild.Oci;

namespace Dbuild.Solver.Store;

/// <summary>
/// <c>dbuild rmi</c> as docker's daemon does it: a name is untagged, and the image goes with its last name; an image ID
/// that several names point at is refused unless forced. Index entries go; blobs stay for <c>image prune</c> (or the
/// build cache's prune) to reclaim.
/// </summary>
public sealed class ImageRemover(LocalImages images)
{
    /// <summary>How docker's error for a missing image starts.</summary>
    public const string NoSuchImage = "No such image: ";

    /// <summary>Removes one image or name; the lines docker prints for it.</summary>
    /// <exception cref="BuildException">No such image, or (without <paramref name="force"/>) an ID several names point at.</exception>
    public async Task<IReadOnlyList<ImageDeletion>> RemoveAsync(string nameOrId, bool force, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nameOrId);
        ContentStore store = images.Store;
        IReadOnlyList<(string Name, Descriptor Descriptor)> names = await store.ListNamesAsync(cancellationToken).ConfigureAwait(false);
        string? normalised = Reference.TryParse(nameOrId, out Reference? parsed, out _) ? parsed.ToString() : null;
        if (names.FirstOrDefault(n => n.Name == normalised || n.Name == nameOrId) is { Name: { } exact, Descriptor: { } target })
        {
            var others = names.Where(n => n.Descriptor.Digest == target.Digest && n.Name != exact).Select(n => n.Name).ToList();
            if (others.Count > 0 || !await store.RemoveEntriesAsync(target.Digest, [exact], cancellationToken).ConfigureAwait(false))
            {
                await store.UntagAsync(exact, cancellationToken).ConfigureAwait(false);
                return [new ImageDeletion(Familiar(exact), null)];
            }
            Digest? id = await ImageIdAsync(target, cancellationToken).ConfigureAwait(false);
            return [new ImageDeletion(Familiar(exact), null), .. id is { } d ? [new ImageDeletion(null, d.ToString())] : Array.Empty<ImageDeletion>()];
        }
        string hex = nameOrId.StartsWith("sha256:", StringComparison.Ordinal) ? nameOrId[7..] : nameOrId;
        if (hex.Length < 4 || !(await images.ListAsync(cancellationToken).ConfigureAwait(false)).Any(i =>
            i.ImageId.Encoded.StartsWith(hex, StringComparison.Ordinal) || i.Manifest.Digest.Encoded.StartsWith(hex, StringComparison.Ordinal)))
        {
            throw new BuildException(NoSuchImage + nameOrId);
        }
        LocalImage image = await images.FindAsync(nameOrId, cancellationToken).ConfigureAwait(false);
        var tags = names.Where(n => n.Descriptor.Digest == image.Manifest.Digest).Select(n => n.Name).ToList();
        if (tags.Count > 1 && !force)
        {
            throw new BuildException($"conflict: unable to delete {image.ImageId.Encoded[..12]} (must be forced) - image is referenced in multiple repositories");
        }
        if (!await store.RemoveEntriesAsync(image.Manifest.Digest, tags, cancellationToken).ConfigureAwait(false))
        {
            throw new BuildException($"{nameOrId} changed while it was being removed (another dbuild tagged or removed it); run the command again.");
        }
        return [.. tags.Select(t => new ImageDeletion(Familiar(t), null)), new ImageDeletion(null, image.ImageId.ToString())];
    }

    /// <summary>How docker prints a stored name: <c>busybox:latest</c>, <c>localhost:5000/app:1</c>.</summary>
    public static string Familiar(string name) => Reference.TryParse(name, out Reference? reference, out _) ? reference.FamiliarName : name;

    private async Task<Digest?> ImageIdAsync(Descriptor target, CancellationToken cancellationToken)
    {
        try { return (await images.ReadImageAsync(target, cancellationToken).ConfigureAwait(false)).Manifest.Config.Digest; }
        catch (Exception ex) when (ex is BuildException or IOException or InvalidContentException) { return null; } // a name whose blobs are gone
    }
}
