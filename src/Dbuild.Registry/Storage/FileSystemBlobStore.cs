namespace Dbuild.Registry.Storage;

/// <summary>registry:2's <c>filesystem</c> driver: every path is a file under the root directory.</summary>
public sealed class FileSystemBlobStore : IBlobStore
{
    private readonly string _root;

    public FileSystemBlobStore(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        _root = Path.GetFullPath(rootDirectory);
    }

    private string Full(string path)
    {
        // Paths are built by RegistryStorage from validated names and digests; this is a last line of defence.
        if (path.Contains("..", StringComparison.Ordinal) || path.StartsWith('/')) { throw new ArgumentException($"Unsafe storage path '{path}'.", nameof(path)); }
        return Path.Combine(_root, path);
    }

    public Task<long?> GetSizeAsync(string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(Full(path));
        return Task.FromResult<long?>(info.Exists ? info.Length : null);
    }

    public async Task<byte[]?> ReadAllAsync(string path, int maxBytes, CancellationToken cancellationToken)
    {
        string full = Full(path);
        try
        {
            using var handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long length = RandomAccess.GetLength(handle);
            if (length > maxBytes) { throw new InvalidDataException($"'{path}' is {length} bytes, more than {maxBytes}."); }
            byte[] content = new byte[length];
            int total = 0;
            while (total < content.Length)
            {
                int read = await RandomAccess.ReadAsync(handle, content.AsMemory(total), total, cancellationToken).ConfigureAwait(false);
                if (read == 0) { break; }
                total += read;
            }
            return total == content.Length ? content : content[..total];
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (UnauthorizedAccessException) when (Directory.Exists(full)) { return null; }
    }

    public async Task WriteAllAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        string full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await RandomAccess.WriteAsync(handle, content, 0, cancellationToken).ConfigureAwait(false);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) { File.Delete(temp); }
        }
    }

    public Task<Stream?> OpenReadAsync(string path, long offset, CancellationToken cancellationToken)
    {
        try
        {
            var stream = new FileStream(Full(path), new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0, Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
            if (offset > 0) { stream.Seek(offset, SeekOrigin.Begin); }
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException) { return Task.FromResult<Stream?>(null); }
    }

    public Task<Stream> OpenAppendAsync(string path, CancellationToken cancellationToken)
    {
        string full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        Stream stream = new AppendFileStream(File.OpenHandle(full, FileMode.Append, FileAccess.Write, FileShare.Read | FileShare.Delete));
        return Task.FromResult(stream);
    }

    public Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken)
    {
        string full = path.Length == 0 ? _root : Full(path);
        if (!Directory.Exists(full)) { return Task.FromResult<IReadOnlyList<string>>([]); }
        try
        {
            string[] names = [.. new DirectoryInfo(full).EnumerateFileSystemInfos().Select(i => i.Name).Where(n => !n.Contains(".tmp-", StringComparison.Ordinal))];
            return Task.FromResult<IReadOnlyList<string>>(names);
        }
        catch (DirectoryNotFoundException) { return Task.FromResult<IReadOnlyList<string>>([]); }
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken)
    {
        string full = Full(path);
        return Task.FromResult(File.Exists(full) || Directory.Exists(full));
    }

    public Task<bool> MoveIfAbsentAsync(string source, string destination, CancellationToken cancellationToken)
    {
        string to = Full(destination);
        if (File.Exists(to)) { return Task.FromResult(false); }
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        try
        {
            // Without overwrite, .NET links then unlinks on Unix, so a concurrent mover of the same content loses cleanly.
            File.Move(Full(source), to, overwrite: false);
            return Task.FromResult(true);
        }
        catch (IOException) when (File.Exists(to)) { return Task.FromResult(false); }
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

    public string? GetLocalPath(string path) => Full(path);
}
