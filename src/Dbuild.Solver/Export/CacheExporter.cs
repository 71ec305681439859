using Dbuild.Oci;
using Dbuild.Registry.Client;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Graph;
using Dbuild.Solver.Ops;
using Dbuild.Solver.Progress;

namespace Dbuild.Solver.Export;

/// <summary>
/// <c>--cache-to</c>: the build's step results as a cache index and the blobs it names (docs/cache-format.md), pushed to
/// a registry repository or written to an OCI layout directory. mode=min takes the steps whose layers are in the
/// exported image, mode=max every step of every stage (kept snapshots are written and compressed for it). A blob the
/// destination has already (the pushed image's layers, an imported cache's) is found by HEAD or mounted, never uploaded
/// twice, and a blob only an imported cache holds is never downloaded unless the destination is another registry.
/// </summary>
internal sealed class CacheExporter(SolveContext context, VertexTracker tracker)
{
    private readonly Dictionary<LayerCompression, LayerCompressor> _compressors = [];

    /// <summary>Exports one <c>--cache-to</c> (registry or local); <paramref name="pushedTo"/> are the repositories the image went to.</summary>
    public async Task ExportAsync(CacheExport spec, IReadOnlyList<Reference> pushedTo, CancellationToken cancellationToken)
    {
        Vertex vertex = tracker.Start(spec.Type == CacheSpecType.Registry ? "exporting cache to registry" : "exporting cache to client directory");
        try
        {
            vertex.Log("preparing build cache for export");
            var said = new HashSet<string>(StringComparer.Ordinal); // a chain's notes repeat the layers below it: each once
            (CacheIndex index, IReadOnlyList<Descriptor> blobs) = await IndexAsync(spec.MaxMode, spec.Compression, n => { if (said.Add(n)) { vertex.Log(n); } },
                cancellationToken).ConfigureAwait(false);
            byte[] config = index.ToJsonBytes();
            var configDescriptor = new Descriptor(CacheIndex.ConfigMediaType, Digest.Compute(config), config.Length);
            var manifest = new ImageManifest(MediaTypes.OciManifest, configDescriptor,
                [.. blobs.Select(b => b with { MediaType = MediaTypes.LayerType(MediaTypes.CompressionOf(b.MediaType), oci: true) })])
            { ArtifactType = CacheIndex.ArtifactType };
            byte[] manifestBytes = manifest.ToJsonBytes();
            if (spec.Type == CacheSpecType.Registry)
            {
                await PushAsync(spec.Ref!, blobs, config, configDescriptor, manifestBytes, pushedTo, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await WriteLayoutAsync(spec.Destination!, blobs, config, manifestBytes, cancellationToken).ConfigureAwait(false);
            }
            vertex.Log($"writing config {configDescriptor.Digest} ({index.Records.Count} records, {blobs.Count} layers)");
            vertex.Log($"writing cache manifest {Digest.Compute(manifestBytes)} done");
            vertex.Done();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            vertex.Fail(ex.Message);
            if (!spec.IgnoreError) { throw new BuildException($"failed to export cache to {spec.Description}: {ex.Message}", ex); }
            Log.CacheWarning(context.Options.Logger, spec.Description, ex.Message);
        }
    }

    /// <summary>
    /// The cache index for an inline cache: the steps whose layers are among <paramref name="imageLayers"/> (the exported
    /// image's, already compressed), so every record's blob is one of the image's own.
    /// </summary>
    public async Task<CacheIndex> InlineIndexAsync(IReadOnlyList<LayerRef> imageLayers, CancellationToken cancellationToken)
    {
        (CacheIndex index, _) = await IndexAsync(max: false, null, _ => { }, cancellationToken).ConfigureAwait(false);
        var inImage = imageLayers.Select(l => l.Blob.Digest.ToString()).ToHashSet(StringComparer.Ordinal);
        return index with { Records = [.. index.Records.Where(r => r.Layer is null || inImage.Contains(r.Layer.Digest))] };
    }

    /// <summary>The records (sorted by key, so the index does not depend on the order steps finished in) and their distinct blobs.</summary>
    private async Task<(CacheIndex Index, IReadOnlyList<Descriptor> Blobs)> IndexAsync(bool max, LayerCompression? compression, Action<string> log,
        CancellationToken cancellationToken)
    {
        var records = new List<CacheIndexRecord>();
        var steps = new Dictionary<string, CacheIndexStep>(StringComparer.Ordinal);
        var blobs = new Dictionary<Digest, Descriptor>();
        foreach ((OpNode node, OpResult result) in context.Solved.DistinctBy(s => s.Result.Key).OrderBy(s => s.Result.Key.ToString(), StringComparer.Ordinal))
        {
            if (!max && !node.InImage) { continue; }
            if (!context.StepKeys.TryGetValue(result.Key, out (Digest StepId, IReadOnlyList<KeyComponent> Components) step)) { continue; }
            CachedLayer? layer = null;
            if (result.Layer is not null)
            {
                LayerRef blob = await BlobOfAsync(result, compression, log, cancellationToken).ConfigureAwait(false);
                layer = new CachedLayer(blob.Blob.MediaType, blob.Blob.Digest.ToString(), blob.Blob.Size, blob.DiffId.ToString());
                blobs.TryAdd(blob.Blob.Digest, blob.Blob);
            }
            records.Add(new CacheIndexRecord(result.Key.ToString(), layer, step.StepId.ToString()));
            steps.TryAdd(step.StepId.ToString(), new CacheIndexStep(step.StepId.ToString(), step.Components));
        }
        var index = new CacheIndex { Records = records, Steps = [.. steps.Values.OrderBy(s => s.Id, StringComparer.Ordinal)] };
        return (index, [.. blobs.Values.OrderBy(b => b.Digest.ToString(), StringComparer.Ordinal)]);
    }

    /// <summary>A step's layer as a compressed blob: as it is when it is one, else written (a snapshot) and compressed, once per build.</summary>
    private async Task<LayerRef> BlobOfAsync(OpResult result, LayerCompression? compression, Action<string> log, CancellationToken cancellationToken)
    {
        ChainLayer top = result.Layer!;
        if (top.Blob is { } blob && MediaTypes.CompressionOf(blob.Blob.MediaType) != LayerCompression.None) { return blob; }
        // Not the image's compressor: a layer only the cache needs is not uploaded early to the image's repositories. The
        // image's own layers are found compressed already (their records), whichever compressor wrote them.
        LayerCompression codec = compression ?? context.Request.Compression;
        if (context.CacheCompressor is { } started && started.Compression == codec) { _compressors.TryAdd(codec, started); }
        if (!_compressors.TryGetValue(codec, out LayerCompressor? compressor))
        {
            int? level = codec == context.Request.Compression ? context.Request.CompressionLevel : null;
            compressor = new LayerCompressor(context.Store, context.Options.StateRoot, context.Tmp, codec, level)
            {
                Executor = context.Executor, Blobs = context.Lazy, SourceDateEpoch = context.Request.SourceDateEpoch,
            };
            _compressors[codec] = compressor;
        }
        int at = result.Layers.Count - 1;
        while (at >= 0 && !ReferenceEquals(result.Layers[at], top)) { at--; }
        IReadOnlyList<ChainLayer> chain = at >= 0 ? [.. result.Layers.Take(at + 1)] : [top];
        return (await compressor.BlobsAsync(chain, log, cancellationToken).ConfigureAwait(false))[^1];
    }

    private async Task PushAsync(Reference target, IReadOnlyList<Descriptor> blobs, byte[] config, Descriptor configDescriptor, byte[] manifest,
        IReadOnlyList<Reference> pushedTo, CancellationToken cancellationToken)
    {
        RegistryClient client = context.Options.Registry ?? throw new BuildException($"Exporting the cache to {target} needs a registry client.");
        if (context.CacheEarlyPush is { } early) { await early.WaitAsync().ConfigureAwait(false); } // blobs uploaded while the build ran
        var uploads = new List<BlobUpload>();
        foreach (Descriptor blob in blobs)
        {
            Digest digest = blob.Digest;
            string? mountFrom = await context.Lazy.MountSourceAsync(digest, target.Registry, cancellationToken).ConfigureAwait(false)
                ?? pushedTo.FirstOrDefault(t => t.Registry == target.Registry)?.Repository;
            uploads.Add(new BlobUpload(digest, blob.Size, () => context.Store.OpenBlob(digest)) { MountFrom = mountFrom });
        }
        uploads.Add(new BlobUpload(configDescriptor.Digest, config.Length, () => new MemoryStream(config, writable: false)));
        await client.PushImageAsync(target.Registry, target.Repository, uploads, [new ManifestUpload(MediaTypes.OciManifest, manifest)],
            [target.Tag ?? Reference.DefaultTag], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>type=local: an OCI layout whose index.json names the cache manifest (as <c>latest</c>); blobs are added, never removed.</summary>
    private async Task WriteLayoutAsync(string destination, IReadOnlyList<Descriptor> blobs, byte[] config, byte[] manifest, CancellationToken cancellationToken)
    {
        ContentStore layout = ContentStore.Open(destination);
        foreach (Descriptor blob in blobs.Where(b => !layout.Contains(b.Digest)))
        {
            Stream source = await context.Lazy.OpenAsync(blob.Digest, cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                await layout.WriteBlobAsync(source, blob.MediaType, blob.Digest, blob.Size, cancellationToken).ConfigureAwait(false);
            }
        }
        await layout.WriteBlobAsync(config, CacheIndex.ConfigMediaType, cancellationToken).ConfigureAwait(false);
        Descriptor stored = await layout.WriteBlobAsync(manifest, MediaTypes.OciManifest, cancellationToken).ConfigureAwait(false);
        await layout.TagAsync("latest", stored with { ArtifactType = CacheIndex.ArtifactType }, cancellationToken).ConfigureAwait(false);
    }
}
