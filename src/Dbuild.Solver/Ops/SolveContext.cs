using System.Collections.Concurrent;
using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Export;
using Dbuild.Solver.Progress;

namespace Dbuild.Solver.Ops;

/// <summary>
/// What every op of one build shares: the store, the cache, the temp directory, the clock, the step slots, the
/// contexts (each hashed once), the background compressor, and the reports of the steps run.
/// </summary>
internal sealed class SolveContext : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ContextTree>> _contexts = new(StringComparer.Ordinal);
    private readonly Lazy<Task<bool>> _snapshots;

    public SolveContext(BuilderOptions options, BuildRequest request, VertexTracker tracker)
    {
        Options = options;
        Request = request;
        Tracker = tracker;
        Store = ContentStore.ForStateRoot(options.StateRoot);
        Cache = new BuildCache(options.StateRoot, Store);
        Results = new CacheChain(Cache, []);
        Lazy = new LazyBlobs(Store, options.Registry, options.Logger);
        Slots = new SemaphoreSlim(Math.Max(1, request.MaxParallelism));
        RunningBuilds.RemoveAbandoned(options.StateRoot); // what a killed build left
        Tmp = Path.Combine(options.StateRoot, "tmp", $"build-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Tmp);
        Now = request.SourceDateEpoch ?? options.TimeProvider.GetUtcNow();
        FileSystem = options.FileSystem ?? BclLayerFileSystem.Instance;
        EarlyPush = request.PushesImage && options.Registry is { } registry && request.Tags.Count > 0
            ? new EarlyBlobPush(registry, Store, request.Tags, options.Logger) : null;
        Compressor = new LayerCompressor(Store, options.StateRoot, Tmp, request.Compression, request.CompressionLevel)
        {
            Executor = options.Executor, Blobs = Lazy, DockerMediaTypes = !request.OciMediaTypes, SourceDateEpoch = request.SourceDateEpoch, BlobReady = EarlyPush is { } early ? early.Start : null,
        };
        if (request.CacheTo.FirstOrDefault(c => c.Type != CacheSpecType.Inline) is { } cacheTo)
        {
            Reference[] refs = [.. request.CacheTo.Where(c => c.Type == CacheSpecType.Registry).Select(c => c.Ref!)];
            CacheEarlyPush = options.Registry is { } client && refs.Length > 0 ? new EarlyBlobPush(client, Store, refs, options.Logger) : null;
            LayerCompression codec = cacheTo.Compression ?? request.Compression;
            CacheCompressor = new LayerCompressor(Store, options.StateRoot, Tmp, codec, codec == request.Compression ? request.CompressionLevel : null)
            {
                Executor = options.Executor, Blobs = Lazy, SourceDateEpoch = request.SourceDateEpoch, BlobReady = CacheEarlyPush is { } push ? push.Start : null,
            };
        }
        _snapshots = new Lazy<Task<bool>>(() => options.Executor is { } executor ? executor.UsesSnapshotsAsync(CancellationToken.None) : Task.FromResult(false));
    }

    /// <summary>The graph has RUN steps: the first cache miss gets the runtime ready (a miss before a RUN usually means the RUN runs too).</summary>
    public bool RunsSteps { get; set; }

    private int _warmedUp;

    /// <summary>
    /// Called on a cache miss: the OCI runtime is chosen and its state set up in the background, off the critical path of
    /// the first RUN. A build whose steps are all cached never pays for it.
    /// </summary>
    public void WarmUpRuntime(CancellationToken cancellationToken)
    {
        if (!RunsSteps || Executor is not { } executor || Interlocked.Exchange(ref _warmedUp, 1) != 0) { return; }
        _ = Task.Run(() => executor.WarmUpAsync(cancellationToken), cancellationToken)
            .ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default); // it fails again, visibly, at the RUN
    }

    /// <summary>The step executor (RUN, and the snapshots a build keeps), or null.</summary>
    public IStepExecutor? Executor => Options.Executor;

    /// <summary>
    /// True when the build keeps its own layers as snapshots (overlay, as root or in a user namespace), as BuildKit does:
    /// COPY writes its files into one, RUN mounts them, and a tar is written only for an exported image's layers.
    /// Otherwise every layer is a tar in the content store.
    /// </summary>
    public Task<bool> UsesSnapshotsAsync() => _snapshots.Value;

    public BuilderOptions Options { get; }

    public BuildRequest Request { get; }

    public VertexTracker Tracker { get; }

    public ContentStore Store { get; }

    /// <summary>The state root's records: step histories (miss reasons), layer records, and (as one <see cref="IBuildCache"/>) results by key.</summary>
    public BuildCache Cache { get; }

    /// <summary>Where op results are looked up (the local cache, then each <c>--cache-from</c>) and recorded (locally) by cache key.</summary>
    public CacheChain Results { get; private set; }

    /// <summary>Consults the imported caches after the local one.</summary>
    public void UseImports(IReadOnlyList<ImportedCache> imports) => Results = new CacheChain(Cache, imports);

    /// <summary>Blobs of imported caches, downloaded only when a step reads them.</summary>
    public LazyBlobs Lazy { get; }

    /// <summary>Each layer step's key parts by cache key (what <c>--cache-to</c> exports to explain later misses).</summary>
    public ConcurrentDictionary<Digest, (Digest StepId, IReadOnlyList<KeyComponent> Components)> StepKeys { get; } = new();

    /// <summary>Every layer step solved, with its result (what <c>--cache-to</c> exports).</summary>
    public ConcurrentBag<(Graph.OpNode Node, Graph.OpResult Result)> Solved { get; } = [];

    /// <summary>Steps running at once.</summary>
    public SemaphoreSlim Slots { get; }

    /// <summary>The build's temp directory, removed by <see cref="CleanupAsync"/>.</summary>
    public string Tmp { get; }

    /// <summary>One time for every history entry of the build (SOURCE_DATE_EPOCH when set).</summary>
    public DateTimeOffset Now { get; }

    public ILayerFileSystem FileSystem { get; }

    public LayerCompressor Compressor { get; }

    /// <summary>
    /// Compresses the layers <c>--cache-to</c> exports (the first one's codec), starting while the build runs for the steps
    /// only mode=max exports; not the image's compressor, so they are not uploaded to the image's repositories. Null without --cache-to.
    /// </summary>
    public LayerCompressor? CacheCompressor { get; }

    /// <summary>Uploads the cache's layer blobs to the <c>--cache-to type=registry</c> repositories as they are written.</summary>
    public EarlyBlobPush? CacheEarlyPush { get; }

    /// <summary>Starts writing a step's layer for a mode=max cache export in the background (the image's own layers are started already).</summary>
    public void PrefetchForCache(IReadOnlyList<ChainLayer> layers, CancellationToken cancellationToken)
    {
        if (CacheCompressor is not null && Request.CacheTo.Any(c => c.MaxMode)) { CacheCompressor.Prefetch(layers, cancellationToken); }
    }

    /// <summary>Uploads the image's layer blobs as they are written, when the build pushes; null otherwise.</summary>
    public EarlyBlobPush? EarlyPush { get; }

    /// <summary>Steps being produced, by cache key: the same key runs once even when two ops ask.</summary>
    public ConcurrentDictionary<Digest, Lazy<Task<CacheRecord>>> Inflight { get; } = new();

    /// <summary>Every step's outcome with its op's place in the graph, for <c>--metadata-file</c>.</summary>
    public ConcurrentBag<(int Sequence, StepReport Report)> Reports { get; } = [];

    /// <summary>A context directory as a tree (with its .dockerignore and the hash cache), one per directory for the build.</summary>
    public ContextTree Context(string directory) => _contexts.GetOrAdd(directory, d =>
        new Lazy<ContextTree>(() => new ContextTree(d, FileSystem, IsRemoteContext(d) ? DockerIgnore.Empty : DockerIgnore.Load(d), Options.StateRoot))).Value;

    private bool IsRemoteContext(string directory) =>
        Request.ContextIsRemote && Path.GetFullPath(directory) == Path.GetFullPath(Request.ContextDirectory);

    /// <summary>Starts loading a context's hash cache and .dockerignore while base images resolve (a failure resurfaces on first use).</summary>
    public void WarmUpContext(string directory, CancellationToken cancellationToken) => _ = Task.Run(() => Context(directory), cancellationToken);

    /// <summary>Keeps the contexts' file hashes for the next build.</summary>
    public async Task SaveContextsAsync(CancellationToken cancellationToken)
    {
        foreach (Lazy<ContextTree> context in _contexts.Values.Where(c => c.IsValueCreated && !IsRemoteContext(c.Value.Root)))
        {
            await context.Value.SaveAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for background compressions, then removes the temp directory (best effort).</summary>
    public async Task CleanupAsync()
    {
        await Compressor.DrainAsync().ConfigureAwait(false);
        if (CacheCompressor is not null) { await CacheCompressor.DrainAsync().ConfigureAwait(false); }
        if (EarlyPush is not null) { await EarlyPush.DisposeAsync().ConfigureAwait(false); }
        if (CacheEarlyPush is not null) { await CacheEarlyPush.DisposeAsync().ConfigureAwait(false); }
        try { Directory.Delete(Tmp, recursive: true); }
        catch (IOException) { /* best effort; the next prune removes it */ }
        catch (UnauthorizedAccessException) { }
    }

    public void Dispose() => Slots.Dispose();
}
