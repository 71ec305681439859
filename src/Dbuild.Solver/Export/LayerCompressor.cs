using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Export;

/// <summary>
/// Step layers are stored uncompressed (a tar is cheap to write, and RUN snapshots and COPY --from read it without
/// inflating); only the layers of an exported image are compressed, as BuildKit does. The compressed blob is
/// remembered by (diffID, codec, level) under <c>buildcache/compressed/</c>, so a layer whose tar comes out byte for
/// byte the same in a later build (a COPY re-run only because its parent changed, say) is never compressed twice.
/// A layer the build keeps as a snapshot is written straight from its directory, tar and compression in one pass, once
/// per (snapshot, codec, level). zstd base layers become gzip when the image has Docker media types, which have no zstd.
/// </summary>
internal sealed class LayerCompressor(ContentStore store, string stateRoot, string tmp, LayerCompression compression, int? requestedLevel)
{
    /// <summary>
    /// gzip defaults to level 2 (.NET's zlib-ng: the first level with Huffman tables built for the data, like Go's
    /// BestSpeed that kaniko and crane use): a few percent larger than level 6, two to three times faster.
    /// </summary>
    private readonly int? _level = requestedLevel ?? (compression == LayerCompression.Gzip ? 2 : null);

    private readonly string _dir = Path.Combine(stateRoot, "buildcache", "compressed");
    private readonly ConcurrentDictionary<Digest, Lazy<Task<(LayerRef Layer, string Note)>>> _work = new();
    private readonly ConcurrentDictionary<Digest, Lazy<Task<(LayerRef Layer, string Note)>>> _snapshots = new();

    /// <summary>The codec it writes.</summary>
    public LayerCompression Compression => compression;

    /// <summary>Opens the blobs below a RUN's snapshot (an imported cache's are downloaded then).</summary>
    public required LazyBlobs Blobs { get; init; }

    /// <summary>Writes kept snapshots as layers; null when the build keeps none.</summary>
    public IStepExecutor? Executor { get; init; }

    /// <summary>Told of each blob written (or found written before): a pushing build uploads it then (<see cref="EarlyBlobPush"/>).</summary>
    public Action<Descriptor>? BlobReady { get; init; }

    /// <summary>The image uses Docker media types (no zstd there: such layers are recompressed).</summary>
    public bool DockerMediaTypes { get; init; }

    private bool Needed(LayerRef layer) => MediaTypes.CompressionOf(layer.Blob.MediaType) switch
    {
        LayerCompression.None => compression != LayerCompression.None,
        LayerCompression.Zstd => DockerMediaTypes && compression != LayerCompression.Zstd,
        _ => false,
    };

    /// <summary>Starts writing the last layer of <paramref name="chain"/>, a kept snapshot of an exported image, in the background.</summary>
    public void Prefetch(IReadOnlyList<ChainLayer> chain, CancellationToken cancellationToken)
    {
        if (chain.Count > 0 && chain[^1].Snapshot is not null) { _ = StartSnapshot(chain, cancellationToken); }
        else if (chain.Count > 0 && chain[^1].Blob is { } blob) { Prefetch(blob, cancellationToken); }
    }

    /// <summary>The chain's layers as blobs an image can reference: kept snapshots written, then everything compressed as <see cref="CompressAsync"/> does.</summary>
    public async Task<IReadOnlyList<LayerRef>> BlobsAsync(IReadOnlyList<ChainLayer> chain, Action<string> log, CancellationToken cancellationToken)
    {
        var work = chain.Select((l, i) => l.Blob is { } blob ? Task.FromResult((blob, "")) : StartSnapshot(chain.Take(i + 1).ToList(), cancellationToken));
        var done = await Task.WhenAll(work).ConfigureAwait(false);
        foreach (var (_, note) in done) { if (note.Length > 0) { log(note); } }
        return await CompressAsync([.. done.Select(d => d.Item1)], log, cancellationToken).ConfigureAwait(false);
    }

    private Task<(LayerRef Layer, string Note)> StartSnapshot(IReadOnlyList<ChainLayer> chain, CancellationToken cancellationToken) =>
        _snapshots.GetOrAdd(chain[^1].Snapshot!.Value, _ => new Lazy<Task<(LayerRef, string)>>(() => Task.Run(() => WriteSnapshotAsync(chain, cancellationToken), cancellationToken))).Value;

    private async Task<(LayerRef Layer, string Note)> WriteSnapshotAsync(IReadOnlyList<ChainLayer> chain, CancellationToken cancellationToken)
    {
        ChainLayer top = chain[^1];
        Digest id = top.Snapshot!.Value;
        IStepExecutor executor = Executor ?? throw new InvalidOperationException("A kept snapshot without an executor to write it.");
        string record = RecordPath("snapshot-" + id.Encoded);
        if (await KnownAsync(record, cancellationToken).ConfigureAwait(false) is { } known) { return (known, ""); }
        // A RUN's snapshot is compared with the layers below it; a COPY's is all new, and needs nothing below.
        IReadOnlyList<LayerSource> sources = top.OnlyChanges ? [.. chain.Select(l => l.ToSource(Blobs))] : [top.ToSource(Blobs)];
        var options = new LayerWriterOptions { Compression = compression, CompressionLevel = _level, Parallelism = Environment.ProcessorCount, SourceDateEpoch = SourceDateEpoch };
        (Descriptor stored, LayerWriteResult result, string done) = await WriteRecordedAsync(record, "snapshot",
            file => executor.WriteLayerAsync(sources, top.OnlyChanges, file, options, cancellationToken), null, cancellationToken).ConfigureAwait(false);
        return (new LayerRef(stored, result.DiffId), $"writing layer {result.DiffId} {done}");
    }

    private string RecordPath(string name) =>
        Path.Combine(_dir, $"{name}-{compression.ToString().ToLowerInvariant()}-{_level?.ToString(CultureInfo.InvariantCulture) ?? "auto"}.json");

    /// <summary>The blob a record names, if the store still has it (announced to <see cref="BlobReady"/>).</summary>
    private async Task<LayerRef?> KnownAsync(string record, CancellationToken cancellationToken)
    {
        if (await BuildCache.ReadLayerRecordAsync(record, store, cancellationToken).ConfigureAwait(false) is not { } known) { return null; }
        var blob = new Descriptor(known.MediaType, Digest.Parse(known.Digest), known.Size);
        BlobReady?.Invoke(blob);
        return new LayerRef(blob, Digest.Parse(known.DiffId));
    }

    /// <summary>
    /// Writes a blob through a temp file into the store (after <paramref name="verify"/>, which may refuse it), records it
    /// under <paramref name="record"/> and announces it to <see cref="BlobReady"/>. Returns the progress note's tail.
    /// </summary>
    private async Task<(Descriptor Stored, LayerWriteResult Result, string Done)> WriteRecordedAsync(string record, string tempPrefix,
        Func<Stream, Task<LayerWriteResult>> write, Action<LayerWriteResult>? verify, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_dir);
        long started = Stopwatch.GetTimestamp();
        string temp = Path.Combine(tmp, $"{tempPrefix}-{Guid.NewGuid():N}");
        LayerWriteResult result;
        var file = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 1 << 16, Options = FileOptions.Asynchronous });
        await using (file.ConfigureAwait(false))
        {
            result = await write(file).ConfigureAwait(false);
        }
        try { verify?.Invoke(result); }
        catch
        {
            File.Delete(temp);
            throw;
        }
        Descriptor stored = await store.CommitFileAsync(temp, result.Digest, result.Size, result.MediaType, cancellationToken).ConfigureAwait(false);
        await BuildCache.WriteLayerRecordAsync(record, new CachedLayer(stored.MediaType, stored.Digest.ToString(), stored.Size, result.DiffId.ToString()), cancellationToken)
            .ConfigureAwait(false);
        BlobReady?.Invoke(stored);
        string done = $"({result.UncompressedSize} bytes, {compression.ToString().ToLowerInvariant()} level {_level?.ToString(CultureInfo.InvariantCulture) ?? "default"}) " +
            $"done {Stopwatch.GetElapsedTime(started).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s";
        return (stored, result, done);
    }

    /// <summary>SOURCE_DATE_EPOCH: clamps mtimes in layers written from snapshots.</summary>
    public DateTimeOffset? SourceDateEpoch { get; init; }

    /// <summary>
    /// Starts compressing a layer that will be exported (a step of the target stage) in the background, so the work
    /// overlaps the steps still running; <see cref="CompressAsync"/> then only waits for it.
    /// </summary>
    public void Prefetch(LayerRef layer, CancellationToken cancellationToken)
    {
        if (Needed(layer)) { _ = Start(layer, cancellationToken); }
    }

    /// <summary>
    /// The layers as an image should reference them: uncompressed ones compressed (in parallel, each tar once per
    /// build), already-compressed ones (base image layers) as they are. Each compression is reported to <paramref name="log"/>.
    /// </summary>
    public async Task<IReadOnlyList<LayerRef>> CompressAsync(IReadOnlyList<LayerRef> layers, Action<string> log, CancellationToken cancellationToken)
    {
        var work = layers.Select(l => Needed(l) ? Start(l, cancellationToken) : Task.FromResult<(LayerRef Layer, string Note)>((l, "")));
        var done = await Task.WhenAll(work).ConfigureAwait(false);
        foreach (var (_, note) in done.DistinctBy(d => d.Layer.DiffId)) { if (note.Length > 0) { log(note); } }
        // A prefetched result carries the Source of whichever LayerRef started it; keep each caller's own.
        return [.. layers.Zip(done, (l, d) => Needed(l) ? l with { Blob = d.Layer.Blob } : l)];
    }

    /// <summary>Waits for every compression started (failed or cancelled ones included) before the temp dir goes.</summary>
    public async Task DrainAsync()
    {
        foreach (var work in _work.Values.Concat(_snapshots.Values).Where(w => w.IsValueCreated))
        {
            // Failures are the export's to report (if it got that far); cleanup must not mask the build's own error.
            await ((Task)work.Value).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private Task<(LayerRef Layer, string Note)> Start(LayerRef layer, CancellationToken cancellationToken) =>
        _work.GetOrAdd(layer.DiffId, _ => new Lazy<Task<(LayerRef, string)>>(() => Task.Run(() => CompressOneAsync(layer, cancellationToken), cancellationToken))).Value;

    private async Task<(LayerRef Layer, string Note)> CompressOneAsync(LayerRef layer, CancellationToken cancellationToken)
    {
        string record = RecordPath(layer.DiffId.Encoded);
        if (await KnownAsync(record, cancellationToken).ConfigureAwait(false) is { } known)
        {
            return (layer with { Blob = known.Blob }, $"layer {layer.DiffId} already compressed as {known.Blob.Digest}");
        }
        // Every core compresses (gzip in independent 1 MiB blocks, zstd in workers); the bytes do not depend on how many there are.
        var options = new LayerWriterOptions { Compression = compression, CompressionLevel = _level, Parallelism = Environment.ProcessorCount };
        // A zstd layer recompressed for Docker media types is read through its decompression.
        Stream blob = await Blobs.OpenAsync(layer.Blob.Digest, cancellationToken).ConfigureAwait(false); // an imported cache's is downloaded first
        Stream tar = MediaTypes.CompressionOf(layer.Blob.MediaType) == LayerCompression.None ? blob
            : await LayerReader.OpenDecompressedAsync(blob, cancellationToken: cancellationToken).ConfigureAwait(false);
        await using (tar.ConfigureAwait(false))
        {
            (Descriptor stored, _, string done) = await WriteRecordedAsync(record, "compress", file => LayerWriter.CompressAsync(tar, file, options, cancellationToken), result =>
            {
                if (result.DiffId != layer.DiffId)
                {
                    throw new BuildException($"layer {layer.Blob.Digest} in the store no longer matches its diffID {layer.DiffId} (read {result.DiffId}); run 'dbuild verify'.");
                }
            }, cancellationToken).ConfigureAwait(false);
            return (layer with { Blob = stored }, $"compressing layer {layer.DiffId} {done}");
        }
    }
}
