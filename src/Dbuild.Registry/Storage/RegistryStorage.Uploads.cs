using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Dbuild.Oci;

namespace Dbuild.Registry.Storage;

/// <summary>
/// Uploads, stateless: everything a replica needs to continue an upload — bytes received, the running SHA-256 and the
/// staged parts — lives in storage (<c>_uploads/ID/state</c>, see <see cref="UploadState"/>), rewritten after each chunk
/// with a conditional write, so a chunk on one replica, the next on another and the final PUT on a third all agree,
/// and two writers racing for one offset cannot both win. No replica reads an upload's bytes back to hash them.
/// </summary>
internal sealed partial class RegistryStorage
{
    private const int MaxStateBytes = 4 * 1024 * 1024;
    private const int CopyBufferSize = 1024 * 1024;

    internal static string UploadPath(string name, string id) => $"{RepositoryPath(name)}/_uploads/{id}";
    private static string UploadDataPath(string name, string id) => $"{UploadPath(name, id)}/data";
    private static string UploadStatePath(string name, string id) => $"{UploadPath(name, id)}/state";
    private static string UploadStartedAtPath(string name, string id) => $"{UploadPath(name, id)}/startedat";

    /// <summary>Upload ids are UUIDs (as in registry:2); anything else is unknown, which also keeps ids out of paths.</summary>
    public static bool IsValidUploadId(string id) => id.Length == 36 && Guid.TryParseExact(id, "D", out _);

    public async Task<string> StartUploadAsync(string name, CancellationToken cancellationToken)
    {
        string id = Guid.NewGuid().ToString("D");
        var state = UploadState.Start(timeProvider.GetUtcNow());
        if (await store.WriteAsync(UploadStatePath(name, id), state.Serialize(), WriteCondition.IfAbsent, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new IOException($"Upload {id} already exists.");
        }
        return id;
    }

    /// <summary>Bytes received so far, or null when the repository has no such upload.</summary>
    public async Task<long?> GetUploadSizeAsync(string name, string id, CancellationToken cancellationToken) =>
        (await ReadUploadAsync(name, id, cancellationToken).ConfigureAwait(false))?.State.Offset;

    /// <summary>
    /// Appends the request body to the upload, hashing while writing. With <paramref name="expectedStart"/> the upload
    /// must currently hold exactly that many bytes. Returns the size before and after. A concurrent append that recorded first makes
    /// this one fail with <see cref="UploadOffsetException"/> (its staged bytes are never committed).
    /// </summary>
    public async Task<(long Before, long After)> AppendUploadAsync(string name, string id, PipeReader body, long? expectedStart, CancellationToken cancellationToken)
    {
        (UploadState state, string etag) = await ReadUploadAsync(name, id, cancellationToken).ConfigureAwait(false) ?? throw new UploadUnknownException(id);
        if (expectedStart is { } start && start != state.Offset) { throw new UploadOffsetException(state.Offset); }
        ResumableSha256 hash = state.ResumeHash();
        StagedPart part;
        try
        {
            part = await store.StageAsync(UploadDataPath(name, id), state.Offset, body, hash.Append, cancellationToken).ConfigureAwait(false);
        }
        catch (StagedOffsetException) { throw new UploadOffsetException(state.Offset); }
        if (part.Length == 0) { return (state.Offset, state.Offset); }
        UploadState next = state.Append(part, hash, timeProvider.GetUtcNow());
        if (await store.WriteAsync(UploadStatePath(name, id), next.Serialize(), WriteCondition.IfMatch(etag), cancellationToken).ConfigureAwait(false) is null)
        {
            long now = await GetUploadSizeAsync(name, id, cancellationToken).ConfigureAwait(false) ?? throw new UploadUnknownException(id);
            throw new UploadOffsetException(now);
        }
        return (state.Offset, next.Offset);
    }

    /// <summary>
    /// Verifies the upload against <paramref name="expected"/> and moves it into place (or drops it when that blob is
    /// already stored). A mismatch deletes the upload. Returns the actual digest, or null when the upload is unknown.
    /// </summary>
    public async Task<(Digest Actual, long Size)?> CompleteUploadAsync(string name, string id, Digest expected, CancellationToken cancellationToken)
    {
        (UploadState state, string etag) = await ReadUploadAsync(name, id, cancellationToken).ConfigureAwait(false) ?? default;
        if (state is null) { return null; }
        string data = UploadDataPath(name, id);
        await store.CommitStagedAsync(data, state.Parts, cancellationToken).ConfigureAwait(false);
        Digest actual = expected.Algorithm == Digest.Sha256Algorithm
            ? Digest.FromSha256(state.ResumeHash().Current())
            : await HashCommittedAsync(data, expected, cancellationToken).ConfigureAwait(false);
        if (actual != expected)
        {
            await store.DeleteAsync(UploadPath(name, id), cancellationToken).ConfigureAwait(false);
            Log.UploadDigestMismatch(logger, name, id, expected, actual);
            return (actual, state.Offset);
        }
        // Claim the upload before moving its bytes: a racing completion of the same upload finds it gone.
        if (!await store.DeleteIfMatchAsync(UploadStatePath(name, id), etag, cancellationToken).ConfigureAwait(false)) { return null; }
        // A blob a GC pass is deleting is recreated only after that pass is done with it (docs/registry-gc.md).
        await markers.VouchForWriteAsync(actual, cancellationToken).ConfigureAwait(false);
        bool moved;
        try { moved = await store.MoveIfAbsentAsync(data, BlobDataPath(actual), cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // purged meanwhile (its state was already claimed, so it looked abandoned): the upload is unknown
        }
        await LinkLayerAsync(name, actual, cancellationToken).ConfigureAwait(false);
        await store.DeleteAsync(UploadPath(name, id), cancellationToken).ConfigureAwait(false);
        Log.BlobCommitted(logger, name, actual, state.Offset, moved);
        return (actual, state.Offset);
    }

    public async Task<bool> CancelUploadAsync(string name, string id, CancellationToken cancellationToken)
    {
        if (await GetUploadSizeAsync(name, id, cancellationToken).ConfigureAwait(false) is null) { return false; }
        await store.DeleteAsync(UploadPath(name, id), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Deletes uploads started before <paramref name="olderThan"/>; returns how many (would have) been purged.</summary>
    public async Task<int> PurgeUploadsAsync(DateTimeOffset olderThan, bool dryRun, CancellationToken cancellationToken)
    {
        int purged = 0;
        foreach (string name in await ListRepositoryFoldersAsync("_uploads", cancellationToken).ConfigureAwait(false))
        {
            string uploads = $"{RepositoryPath(name)}/_uploads";
            foreach (string id in await ListAllAsync(uploads, cancellationToken).ConfigureAwait(false))
            {
                DateTimeOffset? started = await ReadStartedAtAsync(name, id, cancellationToken).ConfigureAwait(false);
                if (started is { } s && s >= olderThan) { continue; }
                purged++;
                Log.UploadPurged(logger, name, id, started?.ToString("O", CultureInfo.InvariantCulture) ?? "unknown", dryRun);
                if (!dryRun) { await store.DeleteAsync($"{uploads}/{id}", cancellationToken).ConfigureAwait(false); }
            }
        }
        return purged;
    }

    /// <summary>When the upload started: from its state, or from registry:2's <c>startedat</c> for uploads it began.</summary>
    internal async Task<DateTimeOffset?> ReadStartedAtAsync(string name, string id, CancellationToken cancellationToken)
    {
        if (IsValidUploadId(id) && await ReadUploadAsync(name, id, cancellationToken).ConfigureAwait(false) is { } upload) { return upload.State.StartedAt; }
        byte[]? content;
        try { content = (await store.ReadAllAsync(UploadStartedAtPath(name, id), 256, cancellationToken).ConfigureAwait(false))?.Content; }
        catch (InvalidDataException) { return null; }
        return content is not null && DateTimeOffset.TryParse(Encoding.UTF8.GetString(content).Trim(), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out DateTimeOffset started) ? started : null;
    }

    /// <summary>When the upload last received bytes (or started), for GC; null when that cannot be read.</summary>
    internal async Task<DateTimeOffset?> ReadLastActivityAsync(string name, string id, CancellationToken cancellationToken)
    {
        try
        {
            if (IsValidUploadId(id) && await ReadUploadAsync(name, id, cancellationToken).ConfigureAwait(false) is { } upload) { return upload.State.LastActivity; }
        }
        catch (InvalidDataException) { return null; }
        return await ReadStartedAtAsync(name, id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every repository folder that holds a <paramref name="child"/> folder (<c>_uploads</c>, <c>_manifests</c>).</summary>
    internal async Task<IReadOnlyList<string>> ListRepositoryFoldersAsync(string child, CancellationToken cancellationToken)
    {
        var result = new List<string>();
        var pending = new Stack<string>();
        pending.Push("");
        while (pending.Count > 0)
        {
            string relative = pending.Pop();
            IReadOnlyList<string> children = await ListAllAsync(relative.Length == 0 ? $"{Root}/repositories" : RepositoryPath(relative), cancellationToken).ConfigureAwait(false);
            if (relative.Length > 0 && children.Contains(child)) { result.Add(relative); }
            foreach (string name in children)
            {
                if (!name.StartsWith('_')) { pending.Push(relative.Length == 0 ? name : $"{relative}/{name}"); }
            }
        }
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    private async Task<(UploadState State, string ETag)?> ReadUploadAsync(string name, string id, CancellationToken cancellationToken)
    {
        if (!IsValidUploadId(id)) { return null; }
        StorageContent? content = await store.ReadAllAsync(UploadStatePath(name, id), MaxStateBytes, cancellationToken).ConfigureAwait(false);
        return content is null ? null : (UploadState.Deserialize(content.Content, id), content.ETag);
    }

    /// <summary>Digests other than sha256 (rare) are computed by reading the committed upload once.</summary>
    private async Task<Digest> HashCommittedAsync(string data, Digest expected, CancellationToken cancellationToken)
    {
        using var hash = expected.CreateHash();
        Stream input = await store.OpenReadAsync(data, 0, null, cancellationToken).ConfigureAwait(false) ?? Stream.Null;
        await using (input.ConfigureAwait(false))
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                int read;
                while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0) { hash.AppendData(buffer, 0, read); }
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }
        return Digest.FromHash(hash, expected.Algorithm);
    }
}

/// <summary>The repository has no upload with this id.</summary>
internal sealed class UploadUnknownException(string id) : Exception($"Upload {id} is unknown.")
{
    public string Id { get; } = id;
}

/// <summary>A chunk did not start where the upload ends.</summary>
internal sealed class UploadOffsetException(long size) : Exception($"The upload holds {size} bytes.")
{
    public long Size { get; } = size;
}
