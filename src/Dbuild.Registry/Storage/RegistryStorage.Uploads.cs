using System.Buffers;
using System.IO.Pipelines;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dbuild.Oci;

namespace Dbuild.Registry.Storage;

internal sealed partial class RegistryStorage
{
    /// <summary>Body segments are batched to at least this size per write.</summary>
    private const int MinWriteSize = 512 * 1024;
    private const int CopyBufferSize = 1024 * 1024;

    /// <summary>
    /// The running sha256 of each upload this process is writing. A cache only: the bytes live in storage, and an
    /// upload continued by another process (or after a restart) is re-hashed from its data.
    /// </summary>
    private readonly ConcurrentDictionary<string, UploadState> _uploads = new(StringComparer.Ordinal);

    internal static string UploadPath(string name, string id) => $"{RepositoryPath(name)}/_uploads/{id}";
    private static string UploadDataPath(string name, string id) => $"{UploadPath(name, id)}/data";
    private static string UploadStartedAtPath(string name, string id) => $"{UploadPath(name, id)}/startedat";

    /// <summary>Upload ids are UUIDs (as in registry:2); anything else is unknown, which also keeps ids out of paths.</summary>
    public static bool IsValidUploadId(string id) => id.Length == 36 && Guid.TryParseExact(id, "D", out _);

    public async Task<string> StartUploadAsync(string name, CancellationToken cancellationToken)
    {
        string id = Guid.NewGuid().ToString("D");
        string startedAt = timeProvider.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        await store.WriteAllAsync(UploadStartedAtPath(name, id), Encoding.UTF8.GetBytes(startedAt), cancellationToken).ConfigureAwait(false);
        await store.WriteAllAsync(UploadDataPath(name, id), ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>Bytes received so far, or null when the repository has no such upload.</summary>
    public async Task<long?> GetUploadSizeAsync(string name, string id, CancellationToken cancellationToken)
    {
        if (!IsValidUploadId(id)) { return null; }
        long? size = await store.GetSizeAsync(UploadDataPath(name, id), cancellationToken).ConfigureAwait(false);
        if (size is not null) { return size; }
        // registry:2 creates data on the first write; a session it started may have only startedat.
        return await store.GetSizeAsync(UploadStartedAtPath(name, id), cancellationToken).ConfigureAwait(false) is null ? null : 0;
    }

    /// <summary>
    /// Appends the request body to the upload, hashing while writing. With <paramref name="expectedStart"/> the upload
    /// must currently hold exactly that many bytes. Kestrel's body pipe is consumed directly: segments are hashed in
    /// place and written with one gathered write per batch of at least <see cref="MinWriteSize"/>, with no copy.
    /// Returns the new size.
    /// </summary>
    public async Task<long> AppendUploadAsync(string name, string id, PipeReader body, long? expectedStart, CancellationToken cancellationToken)
    {
        UploadState state = _uploads.GetOrAdd(id, static _ => new UploadState());
        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long size = await GetUploadSizeAsync(name, id, cancellationToken).ConfigureAwait(false) ?? throw new UploadUnknownException(id);
            if (expectedStart is { } start && start != size) { throw new UploadOffsetException(size); }
            IncrementalHash hash = await EnsureHashAsync(state, name, id, size, cancellationToken).ConfigureAwait(false);
            Stream output = await store.OpenAppendAsync(UploadDataPath(name, id), cancellationToken).ConfigureAwait(false);
            await using (output.ConfigureAwait(false))
            {
                var gathered = output as ISequenceWriter;
                while (true)
                {
                    ReadResult result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
                    ReadOnlySequence<byte> buffer = result.Buffer;
                    if (buffer.Length < MinWriteSize && !result.IsCompleted && !result.IsCanceled)
                    {
                        body.AdvanceTo(buffer.Start, buffer.End); // wait for a bigger batch
                        continue;
                    }
                    if (!buffer.IsEmpty)
                    {
                        state.Offset = -1; // a failed write leaves the hash unknown until re-hashed
                        if (gathered is not null) { await gathered.WriteAsync(buffer, cancellationToken).ConfigureAwait(false); }
                        else
                        {
                            foreach (ReadOnlyMemory<byte> segment in buffer) { await output.WriteAsync(segment, cancellationToken).ConfigureAwait(false); }
                        }
                        foreach (ReadOnlyMemory<byte> segment in buffer) { hash.AppendData(segment.Span); }
                        size += buffer.Length;
                        state.Offset = size;
                    }
                    body.AdvanceTo(buffer.End);
                    if (result.IsCompleted || result.IsCanceled) { break; }
                }
            }
            return size;
        }
        finally { state.Gate.Release(); }
    }

    /// <summary>
    /// Verifies the upload against <paramref name="expected"/> and moves it into place (or drops it when that blob is
    /// already stored). A mismatch deletes the upload. Returns the actual digest, or null when the upload is unknown.
    /// </summary>
    public async Task<(Digest Actual, long Size)?> CompleteUploadAsync(string name, string id, Digest expected, CancellationToken cancellationToken)
    {
        UploadState state = _uploads.GetOrAdd(id, static _ => new UploadState());
        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long? size = await GetUploadSizeAsync(name, id, cancellationToken).ConfigureAwait(false);
            if (size is null) { return null; }
            Digest actual;
            if (expected.Algorithm == Digest.Sha256Algorithm)
            {
                IncrementalHash hash = await EnsureHashAsync(state, name, id, size.Value, cancellationToken).ConfigureAwait(false);
                actual = Digest.FromSha256(hash.GetCurrentHash());
            }
            else
            {
                using IncrementalHash other = expected.CreateHash();
                await HashDataAsync(other, name, id, cancellationToken).ConfigureAwait(false);
                actual = Digest.FromHash(other, expected.Algorithm);
            }
            if (actual != expected)
            {
                await DeleteUploadCoreAsync(name, id, cancellationToken).ConfigureAwait(false);
                Log.UploadDigestMismatch(logger, name, id, expected, actual);
                return (actual, size.Value);
            }
            if (size.Value == 0) { await store.WriteAllAsync(UploadDataPath(name, id), ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false); }
            bool moved = await store.MoveIfAbsentAsync(UploadDataPath(name, id), BlobDataPath(actual), cancellationToken).ConfigureAwait(false);
            await LinkLayerAsync(name, actual, cancellationToken).ConfigureAwait(false);
            await DeleteUploadCoreAsync(name, id, cancellationToken).ConfigureAwait(false);
            Log.BlobCommitted(logger, name, actual, size.Value, moved);
            return (actual, size.Value);
        }
        finally { state.Gate.Release(); }
    }

    public async Task<bool> CancelUploadAsync(string name, string id, CancellationToken cancellationToken)
    {
        if (await GetUploadSizeAsync(name, id, cancellationToken).ConfigureAwait(false) is null) { return false; }
        UploadState state = _uploads.GetOrAdd(id, static _ => new UploadState());
        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try { await DeleteUploadCoreAsync(name, id, cancellationToken).ConfigureAwait(false); }
        finally { state.Gate.Release(); }
        return true;
    }

    /// <summary>Deletes uploads started before <paramref name="olderThan"/>; returns how many (would have) been purged.</summary>
    public async Task<int> PurgeUploadsAsync(DateTimeOffset olderThan, bool dryRun, CancellationToken cancellationToken)
    {
        int purged = 0;
        foreach (string name in await ListRepositoryFoldersAsync(cancellationToken).ConfigureAwait(false))
        {
            string uploads = $"{RepositoryPath(name)}/_uploads";
            foreach (string id in await store.ListAsync(uploads, cancellationToken).ConfigureAwait(false))
            {
                DateTimeOffset? started = await ReadStartedAtAsync(name, id, cancellationToken).ConfigureAwait(false);
                if (started is { } s && s >= olderThan) { continue; }
                purged++;
                Log.UploadPurged(logger, name, id, started?.ToString("O", CultureInfo.InvariantCulture) ?? "unknown", dryRun);
                if (!dryRun)
                {
                    await store.DeleteAsync($"{uploads}/{id}", cancellationToken).ConfigureAwait(false);
                    if (_uploads.TryRemove(id, out UploadState? state)) { state.Hash?.Dispose(); }
                }
            }
        }
        return purged;
    }

    private async Task<DateTimeOffset?> ReadStartedAtAsync(string name, string id, CancellationToken cancellationToken)
    {
        byte[]? content;
        try { content = await store.ReadAllAsync($"{RepositoryPath(name)}/_uploads/{id}/startedat", 256, cancellationToken).ConfigureAwait(false); }
        catch (InvalidDataException) { return null; }
        return content is not null && DateTimeOffset.TryParse(Encoding.UTF8.GetString(content).Trim(), CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out DateTimeOffset started) ? started : null;
    }

    /// <summary>Every folder under repositories/ that holds an <c>_uploads</c> folder.</summary>
    private async Task<IReadOnlyList<string>> ListRepositoryFoldersAsync(CancellationToken cancellationToken)
    {
        var result = new List<string>();
        var pending = new Stack<string>();
        pending.Push("");
        while (pending.Count > 0)
        {
            string relative = pending.Pop();
            IReadOnlyList<string> children = await store.ListAsync(relative.Length == 0 ? $"{Root}/repositories" : RepositoryPath(relative), cancellationToken).ConfigureAwait(false);
            if (relative.Length > 0 && children.Contains("_uploads")) { result.Add(relative); }
            foreach (string child in children)
            {
                if (!child.StartsWith('_')) { pending.Push(relative.Length == 0 ? child : $"{relative}/{child}"); }
            }
        }
        return result;
    }

    private async Task DeleteUploadCoreAsync(string name, string id, CancellationToken cancellationToken)
    {
        await store.DeleteAsync(UploadPath(name, id), cancellationToken).ConfigureAwait(false);
        if (_uploads.TryRemove(id, out UploadState? state))
        {
            state.Hash?.Dispose();
            state.Hash = null;
        }
    }

    private async Task<IncrementalHash> EnsureHashAsync(UploadState state, string name, string id, long size, CancellationToken cancellationToken)
    {
        if (state.Hash is not null && state.Offset == size) { return state.Hash; }
        state.Hash?.Dispose();
        state.Hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        state.Offset = await HashDataAsync(state.Hash, name, id, cancellationToken).ConfigureAwait(false);
        if (state.Offset != size) { state.Offset = -1; }
        return state.Hash;
    }

    private async Task<long> HashDataAsync(IncrementalHash hash, string name, string id, CancellationToken cancellationToken)
    {
        Stream? input = await store.OpenReadAsync(UploadDataPath(name, id), 0, cancellationToken).ConfigureAwait(false);
        if (input is null) { return 0; }
        long total = 0;
        await using (input.ConfigureAwait(false))
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                int read;
                while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    total += read;
                }
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }
        return total;
    }

    /// <summary>Per-upload lock and running hash. The gate is never disposed: a waiter may still hold it after removal.</summary>
    private sealed class UploadState
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public IncrementalHash? Hash { get; set; }
        public long Offset { get; set; } = -1;
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
