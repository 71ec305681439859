using System.Collections.Concurrent;
using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

/// <summary>
/// What the sessions of one build share. A build is one <see cref="BuildSession"/> per target platform, plus one per
/// other platform its stages run on (<c>FROM --platform=$BUILDPLATFORM</c>); they all use one store, cache, context,
/// step slots and compressor, and one table of steps in flight, so a step with the same key (a build-platform stage
/// that does not depend on TARGETARCH, say) runs once for all platforms.
/// </summary>
internal sealed class SharedBuildState
{
    public SharedBuildState(BuilderOptions options, BuildRequest request)
    {
        Store = ContentStore.ForStateRoot(options.StateRoot);
        Cache = new BuildCache(options.StateRoot, Store);
        Slots = new SemaphoreSlim(Math.Max(1, request.MaxParallelism));
        Tmp = Path.Combine(options.StateRoot, "tmp", $"build-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Tmp);
        Now = request.SourceDateEpoch ?? options.TimeProvider.GetUtcNow();
        ILayerFileSystem fs = options.FileSystem ?? BclLayerFileSystem.Instance;
        Context = new Lazy<ContextTree>(() => new ContextTree(request.ContextDirectory, fs, DockerIgnore.Load(request.ContextDirectory), options.StateRoot));
        Compressor = new LayerCompressor(Store, options.StateRoot, Tmp, request.Compression, request.CompressionLevel);
    }

    public ContentStore Store { get; }

    public BuildCache Cache { get; }

    /// <summary>Steps running at once, across all sessions (each session's Dispose disposes it; a second Dispose is a no-op).</summary>
    public SemaphoreSlim Slots { get; }

    /// <summary>The build's temp directory (removed by the sessions' cleanup).</summary>
    public string Tmp { get; }

    /// <summary>One time for every history entry of the build, so the exporter recognises this build's entries in every image.</summary>
    public DateTimeOffset Now { get; }

    public Lazy<ContextTree> Context { get; }

    public LayerCompressor Compressor { get; }

    /// <summary>Steps being produced, by cache key.</summary>
    public ConcurrentDictionary<Digest, Lazy<Task<CacheRecord>>> Inflight { get; } = new();

    private readonly ConcurrentDictionary<Platform, ConcurrentDictionary<string, Lazy<Task<BaseImage>>>> _images = new();

    /// <summary>Base images resolved for one platform, by name: the sessions of that platform load each once.</summary>
    public ConcurrentDictionary<string, Lazy<Task<BaseImage>>> ImagesFor(Platform platform) =>
        _images.GetOrAdd(platform, _ => new ConcurrentDictionary<string, Lazy<Task<BaseImage>>>(StringComparer.Ordinal));

    /// <summary>The progress tracker of a session whose stages run on a platform; null means every session uses the first one's.</summary>
    public Func<Platform, VertexTracker>? TrackerFor { get; init; }
}
