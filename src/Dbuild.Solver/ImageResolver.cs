using System.Collections.Concurrent;
using Dbuild.Oci;
using Dbuild.Registry.Client;

namespace Dbuild.Solver;

/// <summary>
/// Resolves FROM images: from the local store by name unless --pull (when the platform's content is all there),
/// otherwise from the registry (platform picked from an index), with manifest, config and layers written into the store
/// and the name tagged there.
/// </summary>
internal sealed class ImageResolver(ContentStore store, RegistryClient? client, Platform platform)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<BaseImage>>> _resolved = new(StringComparer.Ordinal);

    public Task<BaseImage> ResolveAsync(Reference reference, bool pull, CancellationToken cancellationToken) =>
        _resolved.GetOrAdd(reference + "|" + pull, _ => new Lazy<Task<BaseImage>>(() => ResolveCoreAsync(reference, pull, cancellationToken))).Value;

    private async Task<BaseImage> ResolveCoreAsync(Reference reference, bool pull, CancellationToken cancellationToken)
    {
        StoredImage? local = pull ? null : await FindLocalAsync(reference, cancellationToken).ConfigureAwait(false);
        if (local is not null && await LoadAsync(store, reference, local, platform, cancellationToken).ConfigureAwait(false) is { } image) { return image; }
        if (client is null)
        {
            throw new BuildException(local?.Index is { } index && local.EntryFor(platform) is null
                ? $"{reference}: no match for platform {platform} in manifest {local.Top.Digest}: not found; the index has {Platforms(index)}."
                : $"{reference} is not in the local store for {platform} and no registry client is configured; run 'dbuild pull --platform {platform} {reference}'.");
        }
        return await PullAsync(client, store, reference, platform, cancellationToken).ConfigureAwait(false);
    }

    private async Task<StoredImage?> FindLocalAsync(Reference reference, CancellationToken cancellationToken)
    {
        Descriptor? top = await store.ResolveAsync(reference.ToString(), cancellationToken).ConfigureAwait(false);
        if (top is null && reference.Digest is { } digest && store.Contains(digest)) { top = new Descriptor(MediaTypes.OciManifest, digest, store.GetSize(digest) ?? 0); }
        return top is null ? null : await StoredImage.ReadAsync(store, top, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The image a build for <paramref name="platform"/> uses from a stored image; null when that platform's manifest,
    /// config or a layer is not in the store (or the index has nothing for the platform): then the registry decides.
    /// </summary>
    public static async Task<BaseImage?> LoadAsync(ContentStore store, Reference reference, StoredImage image, Platform platform, CancellationToken cancellationToken)
    {
        if (image.EntryFor(platform) is not { IsPresent: true } entry) { return null; }
        ImageManifest manifest = entry.Manifest!;
        ImageConfig config = ImageConfig.Parse(await store.ReadBlobBytesAsync(manifest.Config.Digest, cancellationToken: cancellationToken).ConfigureAwait(false));
        if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
        {
            throw new BuildException($"{reference}: the config lists {config.RootFs.DiffIds.Count} diff_ids for {manifest.Layers.Count} layers.");
        }
        var layers = manifest.Layers.Select((l, i) => new LayerRef(new Descriptor(l.MediaType, l.Digest, l.Size), config.RootFs.DiffIds[i]) { Source = reference }).ToList();
        return new BaseImage(reference, entry.Descriptor.Digest, config, layers) { Warning = PlatformWarning(reference, platform, config) };
    }

    /// <summary>Pulls an image for a platform into the store and names it there; returns the image a build uses.</summary>
    public static async Task<BaseImage> PullAsync(RegistryClient client, ContentStore store, Reference reference, Platform platform, CancellationToken cancellationToken)
    {
        Descriptor top = await ImagePull.PullAsync(client, store, reference, platform, cancellationToken).ConfigureAwait(false);
        StoredImage image = await StoredImage.ReadAsync(store, top, cancellationToken).ConfigureAwait(false);
        return await LoadAsync(store, reference, image, platform, cancellationToken).ConfigureAwait(false)
            ?? throw new BuildException($"Pulled {reference}, but its blobs for {platform} are not all in the store.");
    }

    /// <summary>
    /// BuildKit's InvalidBaseImagePlatform warning: the base image's config names another OS or architecture than the
    /// platform the stage is built for (a single-platform image is used for any platform). Variants are not compared.
    /// </summary>
    internal static string? PlatformWarning(Reference reference, Platform expected, ImageConfig config)
    {
        if (string.IsNullOrEmpty(config.Os) || string.IsNullOrEmpty(config.Architecture)) { return null; }
        Platform actual = config.Platform;
        return actual.Os == expected.Os && actual.Architecture == expected.Architecture ? null
            : $"Base image {reference.FamiliarName} was pulled with platform \"{actual}\", expected \"{expected}\" for current build";
    }

    private static string Platforms(ImageIndex index) =>
        string.Join(", ", index.Manifests.Where(m => m.Platform is not null).Select(m => m.Platform!.ToString()).Distinct().DefaultIfEmpty("none"));
}
