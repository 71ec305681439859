using System.Collections.Concurrent;
using Dbuild.Oci;
using Dbuild.Solver.Ops;
using Dbuild.Solver.Progress;

namespace Dbuild.Solver.Frontend;

/// <summary>
/// Base images as lowering needs them (BuildKit resolves image configs while lowering, too): each name once per
/// platform, with a <c>[internal] load metadata for …</c> vertex, from the local store or its registry.
/// </summary>
internal sealed class ImageSources(SolveContext context, bool multiPlatform)
{
    private readonly ConcurrentDictionary<Platform, ImageResolver> _resolvers = new();
    private readonly ConcurrentDictionary<(string, Platform), Lazy<Task<BaseImage>>> _images = new();
    private readonly ConcurrentDictionary<(string, Platform), BaseImage> _resolved = new();

    /// <summary>The image <paramref name="reference"/> names, for <paramref name="platform"/>.</summary>
    public Task<BaseImage> ResolveAsync(Reference reference, Platform platform, CancellationToken cancellationToken) =>
        _images.GetOrAdd((reference.ToString(), platform), _ => new Lazy<Task<BaseImage>>(() => LoadMetadataAsync(reference, platform, cancellationToken))).Value;

    /// <summary>An image <see cref="ResolveAsync"/> has resolved (lowering resolves every image before adding ops).</summary>
    public BaseImage Resolved(Reference reference, Platform platform) =>
        _resolved.TryGetValue((reference.ToString(), platform), out BaseImage? image) ? image
            : throw new InvalidOperationException($"{reference} ({platform}) was not resolved while preparing.");

    private async Task<BaseImage> LoadMetadataAsync(Reference reference, Platform platform, CancellationToken cancellationToken)
    {
        string scope = multiPlatform ? $"[{platform} internal]" : "[internal]";
        Vertex meta = context.Tracker.Start($"{scope} load metadata for {reference}");
        try
        {
            ImageResolver resolver = _resolvers.GetOrAdd(platform, p => new ImageResolver(context.Store, context.Options.Registry, p));
            BaseImage image = await resolver.ResolveAsync(reference, context.Request.Pull, cancellationToken).ConfigureAwait(false);
            // BuildKit's InvalidBaseImagePlatform: a single-platform base of another platform is used, with a warning.
            if (image.Warning is { } warning) { meta.Log("WARN: InvalidBaseImagePlatform: " + warning); }
            meta.Done();
            _resolved[(reference.ToString(), platform)] = image;
            return image;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            meta.Fail(ex.Message);
            throw;
        }
    }
}
