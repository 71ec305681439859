using System.Buffers;
using System.IO.Pipelines;

namespace Dbuild.Registry.Storage;

/// <summary>
/// The storage driver seam (contract v2): a tree of named items addressed by <c>/</c>-separated paths relative to the
/// storage root (<c>docker/registry/v2/blobs/sha256/ab/ab…/data</c>). The filesystem driver maps them to files, the
/// Azure driver to block blobs. Layout knowledge lives above, in <see cref="RegistryStorage"/>. Every driver passes the
/// same driver conformance suite (tests/Dbuild.IntegrationTests/Registry/Drivers).
/// </summary>
/// <remarks>
/// Nothing a driver keeps in memory may change an answer: several replicas share one storage, and each must see what
/// another wrote as soon as that write returned.
/// </remarks>
public interface IStorageDriver
{
    /// <summary>registry:2's driver name (<c>filesystem</c>, <c>azure</c>), for logs and errors.</summary>
    string Name { get; }

    /// <summary>Size, modification time and ETag of the item at <paramref name="path"/>; null when there is none (a prefix is not an item).</summary>
    Task<StorageStat?> StatAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Reads a small item whole, with the ETag of the version read; null when missing. Throws
    /// <see cref="InvalidDataException"/> when the item is larger than <paramref name="maxBytes"/>.
    /// </summary>
    Task<StorageContent?> ReadAllAsync(string path, int maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Opens the item for reading <paramref name="length"/> bytes (to the end when null) from <paramref name="offset"/>;
    /// null when missing. An offset at or past the end reads nothing.
    /// </summary>
    Task<Stream?> OpenReadAsync(string path, long offset, long? length, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the item's content atomically (readers see the old or the new content, never a torn one) when
    /// <paramref name="condition"/> holds. Returns the new ETag, or null when the condition did not hold (nothing written).
    /// </summary>
    Task<string?> WriteAsync(string path, ReadOnlyMemory<byte> content, WriteCondition condition, CancellationToken cancellationToken);

    /// <summary>
    /// Appends the whole of <paramref name="content"/> to the staged (not yet readable) item at <paramref name="path"/>,
    /// which must hold exactly <paramref name="offset"/> staged bytes; <paramref name="observe"/> sees every byte, in
    /// order, as it is written (the caller hashes in the same pass). Returns the part written; the caller keeps the list
    /// of parts (a zero-length body returns a part of length 0 that need not be kept). Throws
    /// <see cref="StagedOffsetException"/> when the staged item does not hold <paramref name="offset"/> bytes (drivers that
    /// cannot tell, like Azure's uncommitted blocks, rely on the caller's conditional write of its own state instead).
    /// </summary>
    Task<StagedPart> StageAsync(string path, long offset, PipeReader content, Action<ReadOnlySequence<byte>> observe, CancellationToken cancellationToken);

    /// <summary>
    /// Makes <paramref name="parts"/>, in order, the readable content of the item at <paramref name="path"/> (staged
    /// bytes not in the list are dropped). With no parts the item becomes empty.
    /// </summary>
    Task CommitStagedAsync(string path, IReadOnlyList<StagedPart> parts, CancellationToken cancellationToken);

    /// <summary>
    /// Moves an item. Returns false, leaving <paramref name="source"/> in place, when <paramref name="destination"/>
    /// already exists: content-addressed data is never overwritten. Readers of the destination never see a partial item.
    /// </summary>
    Task<bool> MoveIfAbsentAsync(string source, string destination, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the direct children (item names and sub-prefix names, no trailing <c>/</c>) of a folder-like prefix,
    /// in ordinal order, starting after <paramref name="after"/> (exclusive) when given. Empty when there is none.
    /// </summary>
    Task<StoragePage> ListAsync(string prefix, string? after, int pageSize, CancellationToken cancellationToken);

    /// <summary>Every item under <paramref name="prefix"/> (recursively), with its stat; no order is promised.</summary>
    IAsyncEnumerable<StorageEntry> WalkAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="path"/> names an item or a non-empty prefix.</summary>
    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken);

    /// <summary>Deletes an item or a whole prefix; missing is not an error.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the item only when its ETag is still <paramref name="etag"/> (it was not rewritten since it was read).
    /// Returns false when it changed; true when deleted or already missing.
    /// </summary>
    Task<bool> DeleteIfMatchAsync(string path, string etag, CancellationToken cancellationToken);

    /// <summary>
    /// A short-lived URL a client can GET the item from directly (Azure: a read-only SAS URL), or null when the driver
    /// has none (the filesystem).
    /// </summary>
    Task<Uri?> GetDownloadUrlAsync(string path, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>A local file path for zero-copy serving, or null when the driver has none.</summary>
    string? GetLocalPath(string path);
}

/// <summary>What a driver knows about an item.</summary>
public sealed record StorageStat(long Size, DateTimeOffset Modified, string ETag);

/// <summary>A small item read whole, with the ETag of the version read.</summary>
public sealed record StorageContent(byte[] Content, string ETag);

/// <summary>An item found by <see cref="IStorageDriver.WalkAsync"/>.</summary>
public sealed record StorageEntry(string Path, long Size, DateTimeOffset Modified);

/// <summary>One page of a listing; <see cref="Next"/> is the <c>after</c> for the next page, null on the last one.</summary>
public sealed record StoragePage(IReadOnlyList<string> Names, string? Next);

/// <summary>A staged part: <see cref="Id"/> names it to the driver (a block id in Azure); offsets are the caller's.</summary>
public sealed record StagedPart(string Id, long Offset, long Length);

/// <summary>When <see cref="IStorageDriver.WriteAsync"/> may write.</summary>
public readonly record struct WriteCondition
{
    private WriteCondition(WriteConditionKind kind, string? etag) => (Kind, ETag) = (kind, etag);

    public WriteConditionKind Kind { get; }

    /// <summary>The ETag the item must still have (<see cref="WriteConditionKind.IfMatch"/> only).</summary>
    public string? ETag { get; }

    /// <summary>Always write.</summary>
    public static WriteCondition None => default;

    /// <summary>Write only when the item does not exist (create-if-absent).</summary>
    public static WriteCondition IfAbsent => new(WriteConditionKind.IfAbsent, null);

    /// <summary>Write only when the item exists with this ETag (compare-and-swap).</summary>
    public static WriteCondition IfMatch(string etag) => new(WriteConditionKind.IfMatch, etag ?? throw new ArgumentNullException(nameof(etag)));
}

public enum WriteConditionKind
{
    None,
    IfAbsent,
    IfMatch,
}

/// <summary>A staged append did not start where the staged item ends.</summary>
public sealed class StagedOffsetException(string path, long expected, long actual)
    : IOException($"Staged item '{path}' holds {actual} bytes, not {expected}.")
{
    public long Actual { get; } = actual;
}
