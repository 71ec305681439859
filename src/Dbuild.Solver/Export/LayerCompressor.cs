using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Dbuild.Oci;
using Dbuild.Oci.Layers;

using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Export;

/// <summary>
/// Step layers are stored uncompressed (a tar is cheap to write, and RUN snapshots and COPY --from read it without
/// inflating); only the layers of an exported image are compressed, as BuildKit does. The compressed blob is
/// remembered by (diffID, codec, level) under <c>buildcache/compressed/</c>, so a layer whose tar comes out byte for
/// byte the same in a later build (a COPY re-run only because its parent changed, say) is never compressed twice.
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

    private bool Needed(LayerRef layer) => compression != LayerCompression.None && MediaTypes.CompressionOf(layer.Blob.MediaType) == LayerCompression.None;

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
        foreach (var work in _work.Values.Where(w => w.IsValueCreated))
        {
            // Failures are the export's to report (if it got that far); cleanup must not mask the build's own error.
            await ((Task)work.Value).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private Task<(LayerRef Layer, string Note)> Start(LayerRef layer, CancellationToken cancellationToken) =>
        _work.GetOrAdd(layer.DiffId, _ => new Lazy<Task<(LayerRef, string)>>(() => Task.Run(() => CompressOneAsync(layer, cancellationToken), cancellationToken))).Value;

    private async Task<(LayerRef Layer, string Note)> CompressOneAsync(LayerRef layer, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_dir);
        string record = Path.Combine(_dir, $"{layer.DiffId.Encoded}-{compression.ToString().ToLowerInvariant()}-{_level?.ToString(CultureInfo.InvariantCulture) ?? "auto"}.json");
        if (await BuildCache.ReadLayerRecordAsync(record, store, cancellationToken).ConfigureAwait(false) is { } known)
        {
            var blob = new Descriptor(known.MediaType, Digest.Parse(known.Digest), known.Size);
            return (layer with { Blob = blob }, $"layer {layer.DiffId} already compressed as {blob.Digest}");
        }
        long started = Stopwatch.GetTimestamp();
        // Every core compresses (gzip in independent 1 MiB blocks, zstd in workers); the bytes do not depend on how many there are.
        var options = new LayerWriterOptions { Compression = compression, CompressionLevel = _level, Parallelism = Environment.ProcessorCount };
        string temp = Path.Combine(tmp, $"compress-{Guid.NewGuid():N}");
        LayerWriteResult result;
        Stream tar = store.OpenBlob(layer.Blob.Digest);
        await using (tar.ConfigureAwait(false))
        {
            var file = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 1 << 16, Options = FileOptions.Asynchronous });
            await using (file.ConfigureAwait(false))
            {
                result = await LayerWriter.CompressAsync(tar, file, options, cancellationToken).ConfigureAwait(false);
            }
        }
        if (result.DiffId != layer.DiffId)
        {
            File.Delete(temp);
            throw new BuildException($"layer {layer.Blob.Digest} in the store no longer matches its diffID {layer.DiffId} (read {result.DiffId}); run 'dbuild verify'.");
        }
        Descriptor stored = await store.CommitFileAsync(temp, result.Digest, result.Size, result.MediaType, cancellationToken).ConfigureAwait(false);
        await BuildCache.WriteLayerRecordAsync(record, new CachedLayer(stored.MediaType, stored.Digest.ToString(), stored.Size, layer.DiffId.ToString()),
            cancellationToken).ConfigureAwait(false);
        string note = $"compressing layer {layer.DiffId} ({result.UncompressedSize} bytes, {compression.ToString().ToLowerInvariant()} level " +
            $"{_level?.ToString(CultureInfo.InvariantCulture) ?? "default"}) done {Stopwatch.GetElapsedTime(started).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s";
        return (layer with { Blob = stored }, note);
    }
}
