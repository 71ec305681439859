using System.Globalization;
using System.Runtime.CompilerServices;
using Dbuild.Oci.Locking;
using Microsoft.Win32.SafeHandles;

namespace Dbuild.Registry.Storage;

/// <summary>
/// registry:2's <c>filesystem</c> driver: every path is a file under the root directory. Whole-item writes go to a
/// temporary name renamed into place; conditional writes hold an advisory lock (<c>flock</c>) on a sidecar file, so
/// several processes on one shared directory agree. Staged uploads append to one file; see <see cref="StageAsync"/>.
/// </summary>
public sealed partial class FileSystemDriver : IStorageDriver
{
    /// <summary>Names containing this are the driver's own temporaries and locks; listings and walks skip them.</summary>
    internal const string PrivateMarker = ".tmp-";
    private const int CopyBufferSize = 1024 * 1024;
    private const int MinWriteSize = 512 * 1024;

    private readonly string _root;

    public FileSystemDriver(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        _root = Path.GetFullPath(rootDirectory);
    }

    public string Name => "filesystem";

    private string Full(string path)
    {
        // Paths are built by RegistryStorage from validated names and digests; this is a last line of defence.
        if (path.Contains("..", StringComparison.Ordinal) || path.StartsWith('/') || path.Contains(PrivateMarker, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Unsafe storage path '{path}'.", nameof(path));
        }
        return path.Length == 0 ? _root : Path.Combine(_root, path);
    }

    private static string ETagOf(FileInfo info) => ETagOf(info.LastWriteTimeUtc, info.Length);

    private static string ETagOf(DateTime modifiedUtc, long length) =>
        string.Create(CultureInfo.InvariantCulture, $"{modifiedUtc.Ticks:x}-{length:x}");

    public Task<StorageStat?> StatAsync(string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(Full(path));
        return Task.FromResult(info.Exists ? new StorageStat(info.Length, info.LastWriteTimeUtc, ETagOf(info)) : null);
    }

    /// <summary>
    /// Small items (links, manifests, upload states) are read synchronously: they sit in the page cache, and a
    /// thread-pool hop per read costs more than the read itself on the registry's hottest path (a manifest GET).
    /// </summary>
    public Task<StorageContent?> ReadAllAsync(string path, int maxBytes, CancellationToken cancellationToken)
    {
        // The ETag of the version read: the descriptor keeps the inode, so a rename over the name does not change it.
        return Task.FromResult(SmallFile.Read(Full(path), maxBytes, path) is { } file
            ? new StorageContent(file.Content, ETagOf(file.ModifiedUtc, file.Content.Length))
            : null);
    }

    public Task<Stream?> OpenReadAsync(string path, long offset, long? length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        try
        {
            var stream = new FileStream(Full(path), new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0, Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
            if (offset > 0) { stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin); }
            return Task.FromResult<Stream?>(length is { } l ? new BoundedReadStream(stream, l) : stream);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { return Task.FromResult<Stream?>(null); }
        catch (UnauthorizedAccessException) when (Directory.Exists(Full(path))) { return Task.FromResult<Stream?>(null); }
    }

    public async Task<string?> WriteAsync(string path, ReadOnlyMemory<byte> content, WriteCondition condition, CancellationToken cancellationToken)
    {
        string full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = TempName(full);
        try
        {
            using (SafeFileHandle handle = OpenNew(temp))
            {
                await RandomAccess.WriteAsync(handle, content, 0, cancellationToken).ConfigureAwait(false);
            }
            switch (condition.Kind)
            {
                case WriteConditionKind.IfAbsent:
                    if (Directory.Exists(full) || !PosixLink.TryLink(temp, full)) { return null; } // exactly one creator wins
                    break;
                case WriteConditionKind.IfMatch:
                    using (await LockAsync(full, cancellationToken).ConfigureAwait(false))
                    {
                        var current = new FileInfo(full);
                        if (!current.Exists || ETagOf(current) != condition.ETag) { return null; }
                        File.Move(temp, full, overwrite: true);
                    }
                    break;
                default:
                    File.Move(temp, full, overwrite: true);
                    break;
            }
            return ETagOf(new FileInfo(full));
        }
        finally
        {
            if (File.Exists(temp)) { File.Delete(temp); }
        }
    }

    public Task<bool> MoveIfAbsentAsync(string source, string destination, CancellationToken cancellationToken)
    {
        string from = Full(source), to = Full(destination);
        if (File.Exists(to)) { return Task.FromResult(false); }
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        if (!PosixLink.TryLink(from, to)) { return Task.FromResult(false); } // a concurrent mover won
        File.Delete(from);
        return Task.FromResult(true);
    }

    public Task<StoragePage> ListAsync(string prefix, string? after, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        string full = Full(prefix);
        if (!Directory.Exists(full)) { return Task.FromResult(new StoragePage([], null)); }
        List<string> names;
        try
        {
            names = [.. new DirectoryInfo(full).EnumerateFileSystemInfos().Select(i => i.Name)
                .Where(n => !n.Contains(PrivateMarker, StringComparison.Ordinal) && (after is null || string.CompareOrdinal(n, after) > 0))];
        }
        catch (DirectoryNotFoundException) { return Task.FromResult(new StoragePage([], null)); }
        names.Sort(StringComparer.Ordinal);
        if (names.Count <= pageSize) { return Task.FromResult(new StoragePage(names, null)); }
        List<string> page = names.GetRange(0, pageSize);
        return Task.FromResult(new StoragePage(page, page[^1]));
    }

    public async IAsyncEnumerable<StorageEntry> WalkAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string full = Full(prefix);
        if (!Directory.Exists(full)) { yield break; }
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        foreach (FileInfo file in new DirectoryInfo(full).EnumerateFiles("*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.Name.Contains(PrivateMarker, StringComparison.Ordinal)) { continue; }
            string relative = Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            FileInfo info = file;
            try { info.Refresh(); }
            catch (FileNotFoundException) { continue; }
            if (!info.Exists) { continue; }
            yield return new StorageEntry(relative, info.Length, info.LastWriteTimeUtc);
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken)
    {
        string full = Full(path);
        return Task.FromResult(File.Exists(full) || Directory.Exists(full));
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        string full = Full(path);
        try
        {
            if (File.Exists(full)) { File.Delete(full); }
            else if (Directory.Exists(full)) { Directory.Delete(full, recursive: true); }
        }
        catch (DirectoryNotFoundException) { }
        return Task.CompletedTask;
    }

    public async Task<bool> DeleteIfMatchAsync(string path, string etag, CancellationToken cancellationToken)
    {
        string full = Full(path);
        if (!File.Exists(full)) { return true; }
        using (await LockAsync(full, cancellationToken).ConfigureAwait(false))
        {
            var current = new FileInfo(full);
            if (!current.Exists) { return true; }
            if (ETagOf(current) != etag) { return false; }
            File.Delete(full);
            return true;
        }
    }

    public Task<Uri?> GetDownloadUrlAsync(string path, TimeSpan lifetime, CancellationToken cancellationToken) => Task.FromResult<Uri?>(null);

    public string? GetLocalPath(string path) => Full(path);

    /// <summary>Creates a new file, recreating its folder when a concurrent delete of that (emptied) folder removed it.</summary>
    private static SafeFileHandle OpenNew(string path)
    {
        for (int attempt = 0; ; attempt++)
        {
            try { return File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None); }
            catch (DirectoryNotFoundException) when (attempt < 3) { Directory.CreateDirectory(Path.GetDirectoryName(path)!); }
        }
    }

    private static string TempName(string full) => $"{full}{PrivateMarker}{Guid.NewGuid():N}";

    /// <summary>
    /// An exclusive advisory lock on <c>FULL.tmp-lock</c> (<c>flock</c>, through <see cref="FileLock"/>), held by every
    /// process on the same directory; released by the kernel if its holder dies.
    /// </summary>
    private static async Task<IDisposable> LockAsync(string full, CancellationToken cancellationToken) =>
        await FileLock.AcquireAsync($"{full}{PrivateMarker}lock", FileLockMode.Exclusive, null, cancellationToken).ConfigureAwait(false);
}
