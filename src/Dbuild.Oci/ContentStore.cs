using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dbuild.Oci;

/// <summary>
/// A content-addressed store that is an OCI image layout on disk (<c>oci-layout</c>, <c>index.json</c>,
/// <c>blobs/&lt;alg&gt;/&lt;hex&gt;</c>), so skopeo (<c>oci:DIR:NAME</c>) and umoci read it as is.
/// Blobs are written to a temporary file while hashing, flushed to disk, verified and only then renamed
/// into place; several processes may write the same blob at once. Names in <c>index.json</c> are updated
/// under a file lock with an atomic rename.
/// </summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md</remarks>
public sealed partial class ContentStore
{
    /// <summary>The layout marker file.</summary>
    public const string LayoutFileName = "oci-layout";
    /// <summary>The layout's index.</summary>
    public const string IndexFileName = "index.json";
    /// <summary>The annotation naming an image in a layout's index.</summary>
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    /// <summary>containerd's annotation carrying the full image name.</summary>
    public const string ImageNameAnnotation = "io.containerd.image.name";
    /// <summary>
    /// dbuild's annotation on a name in the index: the repository (<c>registry/repository</c>) the image was pulled from,
    /// as containerd's <c>containerd.io/distribution.source</c> label, so a push to that registry can mount its blobs.
    /// </summary>
    public const string SourceAnnotation = "io.dbuild.distribution.source";

    private const string IngestDirectoryName = "ingest";
    private static readonly byte[] LayoutFileContent = """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray();
    private readonly ILogger _logger;

    private ContentStore(string root, ILogger? logger) => (Root, _logger) = (root, logger ?? NullLogger.Instance);

    /// <summary>The layout directory.</summary>
    public string Root { get; }

    /// <summary>Opens (creating if needed) the layout at <paramref name="path"/>.</summary>
    public static ContentStore Open(string path, ILogger? logger = null)
    {
        string root = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.Combine(root, "blobs", Digest.Sha256Algorithm));
        string layoutFile = Path.Combine(root, LayoutFileName);
        if (!File.Exists(layoutFile)) { WriteAtomically(layoutFile, LayoutFileContent); }
        string indexFile = Path.Combine(root, IndexFileName);
        if (!File.Exists(indexFile)) { WriteAtomically(indexFile, OciJson.Serialize(new ImageIndex(MediaTypes.OciIndex, []))); }
        RemoveAbandonedTemporaries(root);
        return new ContentStore(root, logger);
    }

    /// <summary>Opens an existing layout read-only style: fails when it is not an OCI layout.</summary>
    public static ContentStore OpenExisting(string path, ILogger? logger = null)
    {
        string root = Path.GetFullPath(path);
        if (!File.Exists(Path.Combine(root, LayoutFileName)) || !File.Exists(Path.Combine(root, IndexFileName)))
        {
            throw new InvalidContentException($"'{root}' is not an OCI image layout: it needs {LayoutFileName} and {IndexFileName}.");
        }
        return new ContentStore(root, logger);
    }

    /// <summary>
    /// The local store under a state root (DESIGN.md decision 3): <c>&lt;root&gt;/content</c>. It keeps untagged images
    /// (<see cref="KeepsUntaggedImages"/>), as docker's image store does.
    /// </summary>
    public static ContentStore ForStateRoot(string stateRoot, ILogger? logger = null)
    {
        ContentStore store = Open(Path.Combine(stateRoot, "content"), logger);
        store.KeepsUntaggedImages = true;
        return store;
    }

    /// <summary>
    /// When a name moves to another image, the image it pointed at stays in the index without a name (docker's dangling
    /// <c>&lt;none&gt;:&lt;none&gt;</c> image) unless another name still points at it. Off for plain layouts (OCI outputs, caches).
    /// </summary>
    public bool KeepsUntaggedImages { get; private set; }

    /// <summary>Where a blob lives (whether or not it exists).</summary>
    public string GetBlobPath(Digest digest) => Path.Combine(Root, "blobs", digest.Algorithm, digest.Encoded);

    /// <summary>True when the blob is present.</summary>
    public bool Contains(Digest digest) => File.Exists(GetBlobPath(digest));

    /// <summary>The size of a present blob, or null.</summary>
    public long? GetSize(Digest digest)
    {
        var info = new FileInfo(GetBlobPath(digest));
        return info.Exists ? info.Length : null;
    }

    /// <summary>
    /// Streams <paramref name="content"/> into the store, hashing as it goes. With <paramref name="expected"/>,
    /// a different digest throws <see cref="DigestMismatchException"/> and leaves nothing behind.
    /// </summary>
    public async Task<Descriptor> WriteBlobAsync(Stream content, string mediaType, Digest? expected = null, long? expectedSize = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (expected is { } known && GetSize(known) is long existing && (expectedSize is null || expectedSize == existing))
        {
            return new Descriptor(mediaType, known, existing);
        }
        string algorithm = expected?.Algorithm ?? Digest.Sha256Algorithm;
        string ingest = Path.Combine(Root, IngestDirectoryName);
        Directory.CreateDirectory(ingest);
        string temp = Path.Combine(ingest, $"{Environment.ProcessId}-{Guid.NewGuid():N}.partial");
        try
        {
            Digest actual;
            long size = 0;
            var file = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous, BufferSize = 0 });
            await using (file.ConfigureAwait(false))
            {
                using var hash = Digest.CreateHash(algorithm);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
                try
                {
                    int read;
                    while ((read = await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, read);
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        size += read;
                    }
                }
                finally { ArrayPool<byte>.Shared.Return(buffer); }
                file.Flush(flushToDisk: true);
                actual = Digest.FromHash(hash, algorithm);
            }
            if (expected is { } e && e != actual) { throw new DigestMismatchException(e, actual); }
            if (expectedSize is long s && s != size)
            {
                throw new InvalidContentException($"Blob {actual} has {size} bytes but its descriptor says {s}. The content was discarded.");
            }
            Commit(temp, actual);
            Log.BlobCommitted(_logger, actual, size, GetBlobPath(actual));
            return new Descriptor(mediaType, actual, size);
        }
        finally
        {
            if (File.Exists(temp)) { File.Delete(temp); }
        }
    }

    /// <summary>
    /// Takes over a finished file whose digest was computed while it was written (a layer from the layer writer),
    /// without reading it again: a rename into place on the same filesystem, otherwise a verified streaming copy.
    /// The file is gone afterwards either way.
    /// </summary>
    /// <exception cref="InvalidContentException">The file's length is not <paramref name="size"/>.</exception>
    public async Task<Descriptor> CommitFileAsync(string path, Digest digest, long size, string mediaType, CancellationToken cancellationToken = default)
    {
        try
        {
            long actualSize = new FileInfo(path).Length;
            if (actualSize != size)
            {
                throw new InvalidContentException($"'{path}' has {actualSize} bytes but its descriptor says {size}; it was not stored.");
            }
            if (Contains(digest)) { return new Descriptor(mediaType, digest, size); }
            string target = GetBlobPath(digest);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            try
            {
                File.Move(path, target, overwrite: false);
            }
            catch (IOException) when (Contains(digest)) { /* a concurrent writer stored the same bytes */ }
            catch (IOException)
            {
                FileStream stream = File.OpenRead(path);
                await using (stream.ConfigureAwait(false))
                {
                    await WriteBlobAsync(stream, mediaType, digest, size, cancellationToken).ConfigureAwait(false);
                }
            }
            Log.BlobCommitted(_logger, digest, size, target);
            return new Descriptor(mediaType, digest, size);
        }
        finally
        {
            if (File.Exists(path)) { File.Delete(path); }
        }
    }

    /// <summary>Stores small content already in memory (manifests, configs).</summary>
    public async Task<Descriptor> WriteBlobAsync(ReadOnlyMemory<byte> content, string mediaType, CancellationToken cancellationToken = default)
    {
        Digest digest = Digest.Compute(content.Span);
        if (GetSize(digest) == content.Length) { return new Descriptor(mediaType, digest, content.Length); }
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        return await WriteBlobAsync(stream, mediaType, digest, content.Length, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens a blob for reading; with <paramref name="verify"/> the stream throws at its end if the bytes no longer match.</summary>
    /// <exception cref="FileNotFoundException">The blob is not in the store.</exception>
    public Stream OpenBlob(Digest digest, bool verify = false)
    {
        string path = GetBlobPath(digest);
        if (!File.Exists(path)) { throw new FileNotFoundException($"Blob {digest} is not in the store at {Root}.", path); }
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return verify ? new DigestingReadStream(file, digest) : file;
    }

    /// <summary>Reads a small blob (manifest, config) fully, verifying its digest and refusing anything over <paramref name="maxBytes"/>.</summary>
    public async Task<byte[]> ReadBlobBytesAsync(Digest digest, int maxBytes = 4 * 1024 * 1024, CancellationToken cancellationToken = default)
    {
        long size = GetSize(digest) ?? throw new FileNotFoundException($"Blob {digest} is not in the store at {Root}.", GetBlobPath(digest));
        if (size > maxBytes) { throw new InvalidContentException($"Blob {digest} has {size} bytes, more than the {maxBytes} allowed for a document."); }
        byte[] bytes = await File.ReadAllBytesAsync(GetBlobPath(digest), cancellationToken).ConfigureAwait(false);
        Digest actual = Digest.Compute(bytes, digest.Algorithm);
        return actual == digest ? bytes : throw new DigestMismatchException(digest, actual);
    }

    /// <summary>Re-hashes a stored blob; true when it still matches its name.</summary>
    public async Task<bool> VerifyBlobAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        using var digesting = new DigestingReadStream(OpenBlob(digest, verify: false));
        return await digesting.DrainAsync(cancellationToken).ConfigureAwait(false) == digest;
    }

    /// <summary>Every blob digest in the store.</summary>
    public IEnumerable<Digest> EnumerateBlobs()
    {
        foreach (string algorithmDir in Directory.EnumerateDirectories(Path.Combine(Root, "blobs")))
        {
            string algorithm = Path.GetFileName(algorithmDir);
            foreach (string file in Directory.EnumerateFiles(algorithmDir))
            {
                if (Digest.TryParse($"{algorithm}:{Path.GetFileName(file)}", out Digest digest)) { yield return digest; }
            }
        }
    }

    /// <summary>Removes a blob (no reference checks; callers prune what no index entry reaches).</summary>
    public bool DeleteBlob(Digest digest)
    {
        string path = GetBlobPath(digest);
        if (!File.Exists(path)) { return false; }
        File.Delete(path);
        return true;
    }

    /// <summary>
    /// Deletes what a killed writer left: <c>ingest/PID-….partial</c> and <c>index.json.PID-….tmp</c> files of processes
    /// that are gone. A blob is only ever renamed into <c>blobs/</c> whole and verified, so nothing else needs repair.
    /// </summary>
    private static void RemoveAbandonedTemporaries(string root)
    {
        string ingest = Path.Combine(root, IngestDirectoryName);
        IEnumerable<string> partials = Directory.Exists(ingest) ? Directory.EnumerateFiles(ingest, "*.partial") : [];
        foreach (string file in partials.Concat(Directory.EnumerateFiles(root, "*.tmp")).ToList())
        {
            string name = Path.GetFileName(file);
            int dash = name.LastIndexOf('-');
            int start = name.LastIndexOf('.', Math.Max(dash, 0)) + 1;
            if (dash <= start || !int.TryParse(name.AsSpan(start, dash - start), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)
                || pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}"))
            {
                continue;
            }
            try { File.Delete(file); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private static void Commit(string temp, Digest digest)
    {
        string final = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(temp))!, "blobs", digest.Algorithm, digest.Encoded);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        // rename(2) is atomic; a concurrent writer of the same digest wrote the same bytes, so replacing it is harmless.
        File.Move(temp, final, overwrite: true);
    }

    internal static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        string temp = $"{path}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp";
        using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(content);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
