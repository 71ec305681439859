namespace Dbuild.Registry.Storage;

/// <summary>
/// The storage driver seam: a tree of named blobs addressed by <c>/</c>-separated paths relative to the storage root
/// (<c>docker/registry/v2/blobs/sha256/ab/ab…/data</c>). The filesystem driver maps them to files; an Azure driver maps
/// them to blob names. Layout knowledge lives above, in <see cref="RegistryStorage"/>.
/// </summary>
public interface IBlobStore
{
    /// <summary>The size of the item at <paramref name="path"/>, or null when it does not exist (or is a folder).</summary>
    Task<long?> GetSizeAsync(string path, CancellationToken cancellationToken);

    /// <summary>Reads a small item whole; null when missing. Throws <see cref="InvalidDataException"/> past <paramref name="maxBytes"/>.</summary>
    Task<byte[]?> ReadAllAsync(string path, int maxBytes, CancellationToken cancellationToken);

    /// <summary>Writes a small item atomically: readers see the old or the new content, never a torn one.</summary>
    Task WriteAllAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>Opens an item for reading from <paramref name="offset"/>; null when missing.</summary>
    Task<Stream?> OpenReadAsync(string path, long offset, CancellationToken cancellationToken);

    /// <summary>Opens (creating when missing) an item for appending at its end.</summary>
    Task<Stream> OpenAppendAsync(string path, CancellationToken cancellationToken);

    /// <summary>The child names under a folder-like prefix (items and sub-prefixes), empty when there is none.</summary>
    Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="path"/> names an item or a non-empty prefix.</summary>
    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Moves an item. Returns false, leaving <paramref name="source"/> in place, when <paramref name="destination"/>
    /// already exists: content-addressed data is never overwritten.
    /// </summary>
    Task<bool> MoveIfAbsentAsync(string source, string destination, CancellationToken cancellationToken);

    /// <summary>Deletes an item or a whole prefix; missing is not an error.</summary>
    Task DeleteAsync(string path, CancellationToken cancellationToken);

    /// <summary>A local file path for zero-copy serving, or null when the driver has none.</summary>
    string? GetLocalPath(string path);
}
