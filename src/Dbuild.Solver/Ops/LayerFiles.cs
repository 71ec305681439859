using System.Globalization;
using System.Text;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Ops;

/// <summary>
/// Writes a step's entries as its layer: into a kept snapshot (the tar streamed straight into the directory, never
/// stored), or as an uncompressed layer blob in the store (the exporter compresses the ones an image needs). When every
/// file names its content (<see cref="LayerEntry.ContentId"/>), a layer made from exactly these entries before (a COPY
/// re-run only because its parent changed) is reused without writing it.
/// </summary>
internal sealed class LayerFiles(SolveContext context)
{
    /// <param name="entries">The layer's entries.</param>
    /// <param name="key">The step's cache key: the snapshot's id.</param>
    /// <param name="cancellationToken">Cancels writing.</param>
    /// <param name="stepId">A context COPY's step: files the same as in its last snapshot are hard-linked from there (<see cref="StepFileIndex"/>).</param>
    public async Task<CacheRecord> WriteAsync(IReadOnlyList<LayerEntry> entries, Digest key, CancellationToken cancellationToken, Digest? stepId = null)
    {
        if (await context.UsesSnapshotsAsync().ConfigureAwait(false)) { return await WriteSnapshotAsync(entries, key, stepId, cancellationToken).ConfigureAwait(false); }
        return new CacheRecord(await WriteBlobAsync(entries, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// A new snapshot's id: the step's key and a nonce, so a step run again (--no-cache, a cache mount's new contents)
    /// gets its own snapshot instead of the one its key made before.
    /// </summary>
    public static Digest NewSnapshotId(Digest key) => Digest.Compute(Encoding.UTF8.GetBytes($"{key}\n{Guid.NewGuid():N}"));

    private async Task<CacheRecord> WriteSnapshotAsync(IReadOnlyList<LayerEntry> entries, Digest key, Digest? stepId, CancellationToken cancellationToken)
    {
        IStepExecutor executor = context.Executor!;
        string? plan = PlanRecordName(entries);
        string? planFile = plan is null ? null : Path.Combine(context.Options.StateRoot, "buildcache", "layers", plan + ".snapshot");
        if (planFile is not null && File.Exists(planFile) && Digest.TryParse((await File.ReadAllTextAsync(planFile, cancellationToken).ConfigureAwait(false)).Trim(), out Digest known)
            && executor.SnapshotDirectory(known) is not null)
        {
            Log.LayerReused(context.Options.Logger, entries.Count, known.ToString());
            return new CacheRecord(null) { Snapshot = known.ToString() };
        }
        // The tar is only unpacked: nothing hashes it (the layer's digests come from the snapshot when an image needs it).
        var options = new LayerWriterOptions { Compression = LayerCompression.None, SourceDateEpoch = context.Request.SourceDateEpoch, ComputeDigests = false };
        Digest id = NewSnapshotId(key);
        // Files taken unchanged from another snapshot are hard-linked, not copied (snapshots never change); the rest
        // streams through a tar. The snapshot's layer is exactly these entries (not the parents unpacking had to make).
        bool Linked(LayerEntry e) => e.Type == LayerEntryType.File && e.LinkSource is not null && ClampedTime(e) == e.ModificationTime;
        var sources = entries.Where(Linked).ToDictionary(e => e.Path, e => e.LinkSource!, StringComparer.Ordinal);
        var index = new StepFileIndex(context.Options.StateRoot);
        // A context COPY's files that can be shared with its next run, by path (entry paths are clean and relative).
        Dictionary<string, string> signatures = stepId is null ? [] : entries
            .Select(e => (e.Path, Signature: StepFileIndex.Signature(e, ClampedTime(e)))).Where(f => f.Signature is not null)
            .ToDictionary(f => f.Path, f => f.Signature!, StringComparer.Ordinal);
        if (stepId is { } step && await index.PreviousAsync(step, s => executor.SnapshotDirectory(s) is not null, cancellationToken).ConfigureAwait(false) is { } previous)
        {
            string fs = executor.SnapshotDirectory(previous.Snapshot)!;
            foreach ((string path, string signature) in signatures)
            {
                string before = Path.Combine(fs, path);
                if (!sources.ContainsKey(path) && previous.Files.GetValueOrDefault(path) == signature && File.Exists(before)) { sources[path] = before; }
            }
        }
        // A hard link to a linked file is linked to the same file (so the names stay one inode, as in the source).
        foreach (LayerEntry e in entries.Where(e => e.Type == LayerEntryType.HardLink && e.LinkTarget is not null && sources.ContainsKey(e.LinkTarget)))
        {
            sources[e.Path] = sources[e.LinkTarget!];
        }
        List<KeyValuePair<string, string>> links = [.. sources];
        List<LayerEntry> written = links.Count == 0 ? [.. entries] : [.. entries.Where(e => !sources.ContainsKey(e.Path))];
        await executor.ImportSnapshotAsync(id, (tar, ct) => LayerWriter.WriteAsync(written, tar, options, ct), [.. entries.Select(e => e.Path)], links, cancellationToken)
            .ConfigureAwait(false);
        if (planFile is not null) { await BuildCache.WriteAtomicAsync(planFile, Encoding.UTF8.GetBytes(id.ToString()), cancellationToken).ConfigureAwait(false); }
        if (stepId is { } made) { await index.RecordAsync(made, id, signatures, cancellationToken).ConfigureAwait(false); }
        return new CacheRecord(null) { Snapshot = id.ToString() };
    }

    private DateTimeOffset ClampedTime(LayerEntry e) =>
        context.Request.SourceDateEpoch is { } epoch && e.ModificationTime > epoch ? epoch : e.ModificationTime;

    private async Task<CachedLayer> WriteBlobAsync(IReadOnlyList<LayerEntry> entries, CancellationToken cancellationToken)
    {
        string? record = PlanRecordName(entries);
        if (record is not null && await context.Cache.TryGetLayerAsync(record, cancellationToken).ConfigureAwait(false) is { } known)
        {
            Log.LayerReused(context.Options.Logger, entries.Count, known.Digest);
            return known;
        }
        string temp = Path.Combine(context.Tmp, $"layer-{Guid.NewGuid():N}");
        LayerWriteResult result;
        FileStream file = new(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 1 << 16, Options = FileOptions.Asynchronous });
        await using (file.ConfigureAwait(false))
        {
            result = await LayerWriter.WriteAsync(entries, file, new LayerWriterOptions { Compression = LayerCompression.None, SourceDateEpoch = context.Request.SourceDateEpoch },
                cancellationToken).ConfigureAwait(false);
        }
        CachedLayer written = await IngestAsync(temp, result, cancellationToken).ConfigureAwait(false);
        if (record is not null) { await context.Cache.PutLayerAsync(record, written, cancellationToken).ConfigureAwait(false); }
        return written;
    }

    /// <summary>Moves a finished layer file into the store (a rename on the same filesystem; a copy otherwise).</summary>
    public async Task<CachedLayer> IngestAsync(string path, LayerWriteResult layer, CancellationToken cancellationToken)
    {
        string mediaType = MediaTypes.LayerType(layer.Compression, oci: true);
        await context.Store.CommitFileAsync(path, layer.Digest, layer.Size, mediaType, cancellationToken).ConfigureAwait(false);
        return new CachedLayer(mediaType, layer.Digest.ToString(), layer.Size, layer.DiffId.ToString());
    }

    /// <summary>The record naming the layer these entries make, or null when a file's content has no stable name.</summary>
    private string? PlanRecordName(IReadOnlyList<LayerEntry> entries)
    {
        if (entries.Any(e => e.Type == LayerEntryType.File && e.Size > 0 && e.ContentId is null)) { return null; }
        var key = new StringBuilder("layer-plan v1\n");
        foreach (LayerEntry e in entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            DateTimeOffset mtime = ClampedTime(e);
            key.Append(CultureInfo.InvariantCulture,
                $"{e.Path}\0{e.Type}\0{(int)e.Mode}\0{e.Uid}:{e.Gid}\0{e.Size}\0{mtime.ToUnixTimeSeconds()}\0{e.LinkTarget}\0{e.DeviceMajor},{e.DeviceMinor}\0{e.ContentId}\0");
            foreach ((string name, byte[] value) in e.ExtendedAttributes?.OrderBy(x => x.Key, StringComparer.Ordinal) ?? Enumerable.Empty<KeyValuePair<string, byte[]>>())
            {
                key.Append(name).Append('=').Append(Convert.ToBase64String(value)).Append('\0');
            }
            key.Append('\n');
        }
        return Digest.Compute(Encoding.UTF8.GetBytes(key.ToString())).Encoded;
    }
}
