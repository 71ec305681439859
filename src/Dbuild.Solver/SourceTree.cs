using System.Text.Json;
using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Oci.Layers;

using Dbuild.Solver.Cache;

namespace Dbuild.Solver;

/// <summary>A file selected by COPY/ADD: where to read it and the metadata the layer gets.</summary>
internal sealed record SourceFile(string RelativePath, string FullPath, LayerEntryType Type, UnixFileMode Mode, int Uid, int Gid, long Size,
    string? LinkTarget, DateTimeOffset ModificationTime, ulong Inode)
{
    /// <summary>The device the file lives on; with <see cref="Inode"/> it identifies a hard-link group.</summary>
    public ulong Device { get; init; }

    /// <summary>How many names the inode has (more than 1: hard-linked).</summary>
    public long LinkCount { get; init; } = 1;

    /// <summary>For <c>COPY --parents</c>: the leading directories (before a <c>/./</c> pivot) the destination leaves out.</summary>
    public string ParentsBase { get; init; } = "";

    /// <summary>The status change time (ctime), when the file system reports it.</summary>
    public DateTimeOffset ChangeTime { get; init; }

    /// <summary>The same file (bytes, owner, mode, times, no xattrs) in an immutable snapshot directory, which a copy may hard-link.</summary>
    public string? LinkSource { get; init; }

    /// <summary>When 0 or more, the content is the <see cref="Size"/> bytes at this offset of <see cref="FullPath"/> (a layer tar).</summary>
    public long DataOffset { get; init; } = -1;
}

/// <summary>Files COPY can read: the build context (with .dockerignore) or another stage's unpacked filesystem.</summary>
internal abstract class SourceTree(string root)
{
    public string Root { get; } = root;

    public abstract string Description { get; }

    /// <summary>lstat of a path relative to the root; null when missing or excluded.</summary>
    public abstract SourceFile? Stat(string relativePath);

    public virtual bool IsExcluded(string relativePath) => false;

    /// <summary>lstat without exclusion checks, for walking below excluded directories.</summary>
    protected virtual SourceFile? StatRaw(string relativePath) => Stat(relativePath);

    /// <summary>Every path below <paramref name="relativeDirectory"/>, depth first in ordinal order, minus exclusions.</summary>
    public IEnumerable<SourceFile> Walk(string relativeDirectory)
    {
        IEnumerable<string>? names = ChildNames(relativeDirectory);
        if (names is null) { yield break; }
        foreach (string name in names)
        {
            string rel = FsTree.Combine(relativeDirectory, name);
            bool excluded = IsExcluded(rel);
            if (excluded && !MayContainIncluded(rel)) { continue; }
            SourceFile? file = StatRaw(rel);
            if (file is null) { continue; }
            if (!excluded) { yield return file; }
            if (file.Type == LayerEntryType.Directory)
            {
                var children = Walk(rel).ToList();
                // An excluded directory still appears when an exception re-includes something below it.
                if (excluded && children.Count > 0) { yield return file; }
                foreach (SourceFile child in children) { yield return child; }
            }
        }
    }

    protected virtual bool MayContainIncluded(string relativePath) => false;

    /// <summary>The names in a directory of the tree, in ordinal order; null when it is not a directory.</summary>
    protected virtual IEnumerable<string>? ChildNames(string relativeDirectory)
    {
        string full = relativeDirectory.Length == 0 ? Root : Path.Combine(Root, relativeDirectory);
        try { return [.. Directory.EnumerateFileSystemEntries(full).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)]; }
        catch (DirectoryNotFoundException) { return null; }
    }

    /// <summary>All paths, for wildcard sources.</summary>
    public IEnumerable<string> AllPaths() => Walk("").Select(f => f.RelativePath);

    /// <summary>The bytes of a regular file of this tree.</summary>
    public virtual Stream OpenContent(SourceFile file)
    {
        if (file.DataOffset < 0) { return File.OpenRead(file.FullPath); }
        var tar = new FileStream(file.FullPath, System.IO.FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.SequentialScan);
        tar.Seek(file.DataOffset, SeekOrigin.Begin);
        return new WindowStream(tar, file.Size);
    }

    /// <summary>
    /// A stable name for a regular file's bytes, when the tree can give one without reading them (see
    /// <see cref="LayerEntry.ContentId"/>); null otherwise.
    /// </summary>
    public virtual ValueTask<string?> ContentIdAsync(SourceFile file, CancellationToken cancellationToken) =>
        ValueTask.FromResult(file.DataOffset >= 0 ? $"tar {Path.GetFileName(file.FullPath)}@{file.DataOffset}+{file.Size}" : null);

    /// <summary>The content hash of a regular file (sha256 of its bytes).</summary>
    public virtual async Task<string> HashAsync(SourceFile file, CancellationToken cancellationToken)
    {
        Stream stream = OpenContent(file);
        await using (stream.ConfigureAwait(false))
        {
            return (await Digest.ComputeAsync(stream, cancellationToken).ConfigureAwait(false)).ToString();
        }
    }

    protected static SourceFile? StatWith(ILayerFileSystem fs, string root, string relativePath, bool keepOwners)
    {
        string full = relativePath.Length == 0 ? root : Path.Combine(root, relativePath);
        LayerFileStatus status;
        try { status = fs.GetStatus(full); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        string? link = status.Type == LayerEntryType.Symlink ? new FileInfo(full).LinkTarget : null;
        return new SourceFile(relativePath, full, status.Type, status.Mode, keepOwners ? status.Uid : 0, keepOwners ? status.Gid : 0,
            status.Type == LayerEntryType.File ? status.Size : 0, link, status.ModificationTime, status.Inode)
        {
            Device = status.Device,
            LinkCount = status.LinkCount,
            ChangeTime = status.ChangeTime,
        };
    }
}

/// <summary>
/// The build context directory. Content hashes are remembered by (path, inode, size, mtime, ctime) in
/// <c>buildcache/context/&lt;hash of the context path&gt;.json</c>, so an unchanged context is only stat'ed.
/// </summary>
internal sealed class ContextTree : SourceTree
{
    private readonly ILayerFileSystem _fs;
    private readonly DockerIgnore _ignore;
    private readonly string _cacheFile;
    private readonly Dictionary<string, HashRecord> _hashes;
    private readonly Lock _lock = new();
    private bool _dirty;

    internal sealed record HashRecord(ulong Inode, long Size, long MtimeTicks, string Hash)
    {
        /// <summary>ctime ticks: a rewrite that restores size and mtime still moves the ctime.</summary>
        public long CtimeTicks { get; init; }
    }

    /// <summary>The .dockerignore in force (empty for a fetched context).</summary>
    public DockerIgnore Ignore => _ignore;

    public ContextTree(string root, ILayerFileSystem fs, DockerIgnore ignore, string stateRoot) : base(Path.GetFullPath(root))
    {
        _fs = fs;
        _ignore = ignore;
        string dir = Path.Combine(stateRoot, "buildcache", "context");
        Directory.CreateDirectory(dir);
        _cacheFile = Path.Combine(dir, Digest.Compute(System.Text.Encoding.UTF8.GetBytes(Root)).Encoded + ".json");
        _hashes = Load(_cacheFile);
    }

    public override string Description => "context";

    public override SourceFile? Stat(string relativePath) =>
        relativePath.Length > 0 && _ignore.IsExcluded(relativePath) ? null : StatWith(_fs, Root, relativePath, keepOwners: false);

    public override bool IsExcluded(string relativePath) => _ignore.IsExcluded(relativePath);

    protected override SourceFile? StatRaw(string relativePath) => StatWith(_fs, Root, relativePath, keepOwners: false);

    protected override bool MayContainIncluded(string relativePath) => !_ignore.CanSkipDirectory(relativePath);

    public override async Task<string> HashAsync(SourceFile file, CancellationToken cancellationToken)
    {
        long ticks = file.ModificationTime.UtcTicks;
        long changed = file.ChangeTime.UtcTicks;
        lock (_lock)
        {
            if (_hashes.TryGetValue(file.RelativePath, out HashRecord? known) && known.Inode == file.Inode && known.Size == file.Size && known.MtimeTicks == ticks
                && known.CtimeTicks == changed)
            {
                return known.Hash;
            }
        }
        string hash = await base.HashAsync(file, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            _hashes[file.RelativePath] = new HashRecord(file.Inode, file.Size, ticks, hash) { CtimeTicks = changed };
            _dirty = true;
        }
        return hash;
    }

    /// <summary>The content hash, remembered across builds: only files whose stat changed are read.</summary>
    public override async ValueTask<string?> ContentIdAsync(SourceFile file, CancellationToken cancellationToken) =>
        await HashAsync(file, cancellationToken).ConfigureAwait(false);

    public async Task SaveAsync(CancellationToken cancellationToken)
    {
        byte[] bytes;
        lock (_lock)
        {
            if (!_dirty) { return; }
            bytes = JsonSerializer.SerializeToUtf8Bytes(_hashes, SolverJson.Default.DictionaryStringHashRecord);
            _dirty = false;
        }
        await BuildCache.WriteAtomicAsync(_cacheFile, bytes, cancellationToken).ConfigureAwait(false);
    }

    private static Dictionary<string, HashRecord> Load(string path)
    {
        try
        {
            return File.Exists(path)
                ? JsonSerializer.Deserialize(File.ReadAllBytes(path), SolverJson.Default.DictionaryStringHashRecord) ?? new(StringComparer.Ordinal)
                : new(StringComparer.Ordinal);
        }
        catch (JsonException) { return new(StringComparer.Ordinal); }
    }
}

/// <summary>A downloaded ADD source: one file in its own directory.</summary>
internal sealed class UrlTree(string root, string fileName, ILayerFileSystem fs) : SourceTree(root)
{
    public string FileName { get; } = fileName;

    public override string Description => "download";

    public override SourceFile? Stat(string relativePath) => StatWith(fs, Root, relativePath, keepOwners: false);
}

/// <summary>Reads <c>length</c> bytes of a stream from its current position, then reports the end; owns the stream.</summary>
internal sealed class WindowStream(Stream inner, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = inner.Read(buffer[..(int)Math.Min(buffer.Length, length - _position)]);
        _position += read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _position)], cancellationToken).ConfigureAwait(false);
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) { inner.Dispose(); }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
