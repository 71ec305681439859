using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.AzureBlob;

/// <summary>
/// registry:2's <c>azure</c> driver: every path is a block blob named <c>ROOTDIRECTORY/path</c> in one container.
/// Conditional writes are Azure's own preconditions (<c>If-None-Match: *</c>, <c>If-Match</c>), so replicas sharing the
/// container agree without any lock; staged uploads are uncommitted blocks (<see cref="AzureBlockStager"/>); a move is a
/// server-side copy guarded by <c>If-None-Match: *</c>, then a delete. Nothing is cached between calls.
/// </summary>
public sealed class AzureBlobDriver : IStorageDriver
{
    private const int DeleteParallelism = 8;
    private static readonly TimeSpan CopyWaitLimit = TimeSpan.FromMinutes(10);

    private readonly BlobServiceClient _service;
    private readonly BlobContainerClient _container;
    private readonly string _root;
    private readonly AzureDownloadUrls _urls;

    public AzureBlobDriver(BlobServiceClient service, string container, string rootDirectory, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        _service = service;
        _container = service.GetBlobContainerClient(container);
        _root = (rootDirectory ?? "").Trim('/');
        _urls = new AzureDownloadUrls(service, timeProvider ?? TimeProvider.System);
    }

    /// <summary>Creates the driver from validated settings.</summary>
    public static AzureBlobDriver Create(AzureBlobSettings settings, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new AzureBlobDriver(settings.CreateServiceClient(), settings.Container, settings.RootDirectory, timeProvider);
    }

    public string Name => "azure";

    /// <summary>The container's URL (for logs; carries no credentials).</summary>
    public Uri ContainerUri => _container.Uri;

    /// <summary>Creates the container when it does not exist (run once at startup).</summary>
    public async Task EnsureContainerAsync(CancellationToken cancellationToken) =>
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);

    internal string BlobName(string path)
    {
        // Paths are built by RegistryStorage from validated names and digests; this is a last line of defence.
        if (path.Contains("..", StringComparison.Ordinal) || path.StartsWith('/') || path.EndsWith('/'))
        {
            throw new ArgumentException($"Unsafe storage path '{path}'.", nameof(path));
        }
        return _root.Length == 0 ? path : path.Length == 0 ? _root : $"{_root}/{path}";
    }

    /// <summary>The blob-name prefix of everything under <paramref name="path"/> (ends in <c>/</c>, or empty for the whole container).</summary>
    private string FolderPrefix(string path)
    {
        string name = BlobName(path);
        return name.Length == 0 ? "" : name + "/";
    }

    private BlockBlobClient Blob(string path) => _container.GetBlockBlobClient(BlobName(path));

    public async Task<StorageStat?> StatAsync(string path, CancellationToken cancellationToken)
    {
        if (BlobName(path).Length == 0) { return null; }
        try
        {
            BlobProperties properties = (await Blob(path).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            // A destination whose server-side copy is still running is not there yet (its move has not returned).
            if (properties.BlobCopyStatus == CopyStatus.Pending) { return null; }
            return new StorageStat(properties.ContentLength, properties.LastModified, properties.ETag.ToString());
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { return null; }
    }

    public async Task<StorageContent?> ReadAllAsync(string path, int maxBytes, CancellationToken cancellationToken)
    {
        BlobDownloadStreamingResult download;
        try
        {
            download = (await Blob(path).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { return null; }
        using (download)
        {
            long length = download.Details.ContentLength;
            if (length > maxBytes) { throw new InvalidDataException($"'{path}' is {length} bytes, more than {maxBytes}."); }
            byte[] content = new byte[length];
            await download.Content.ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
            return new StorageContent(content, download.Details.ETag.ToString());
        }
    }

    public async Task<Stream?> OpenReadAsync(string path, long offset, long? length, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is 0) { return await StatAsync(path, cancellationToken).ConfigureAwait(false) is null ? null : Stream.Null; }
        var options = new BlobDownloadOptions();
        if (offset > 0 || length is not null) { options.Range = new HttpRange(offset, length); }
        try
        {
            BlobDownloadStreamingResult download = (await Blob(path).DownloadStreamingAsync(options, cancellationToken).ConfigureAwait(false)).Value;
            return download.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { return null; }
        catch (RequestFailedException ex) when (ex.Status == 416) { return Stream.Null; } // at or past the end: reads nothing
    }

    public async Task<string?> WriteAsync(string path, ReadOnlyMemory<byte> content, WriteCondition condition, CancellationToken cancellationToken)
    {
        var conditions = condition.Kind switch
        {
            WriteConditionKind.IfAbsent => new BlobRequestConditions { IfNoneMatch = ETag.All },
            WriteConditionKind.IfMatch => new BlobRequestConditions { IfMatch = new ETag(condition.ETag!) },
            _ => null,
        };
        try
        {
            // One Put Blob: readers see the old or the new content, never a mix.
            using Stream stream = BinaryData.FromBytes(content).ToStream();
            Response<BlobContentInfo> response = await Blob(path).UploadAsync(stream, new BlobUploadOptions { Conditions = conditions }, cancellationToken).ConfigureAwait(false);
            return response.Value.ETag.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412 || (ex.Status == 404 && condition.Kind == WriteConditionKind.IfMatch))
        {
            return null;
        }
    }

    public Task<StagedPart> StageAsync(string path, long offset, PipeReader content, Action<ReadOnlySequence<byte>> observe, CancellationToken cancellationToken) =>
        AzureBlockStager.StageAsync(Blob(path), offset, content, observe, cancellationToken);

    public async Task CommitStagedAsync(string path, IReadOnlyList<StagedPart> parts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parts);
        IEnumerable<string> blocks = parts.SelectMany(p => AzureBlockStager.BlockIds(p));
        // "Latest" block list: an uncommitted block, or one committed by an earlier commit of the same list (a retried PUT).
        await Blob(path).CommitBlockListAsync(blocks, new CommitBlockListOptions(), cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> MoveIfAbsentAsync(string source, string destination, CancellationToken cancellationToken)
    {
        BlockBlobClient from = Blob(source);
        BlockBlobClient to = Blob(destination);
        CopyFromUriOperation copy;
        try
        {
            copy = await to.StartCopyFromUriAsync(from.Uri, new BlobCopyFromUriOptions { DestinationConditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412) { return false; }
        // Within one account the copy normally completes at once; otherwise wait, bounded.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(CopyWaitLimit);
        await copy.WaitForCompletionAsync(TimeSpan.FromMilliseconds(200), limit.Token).ConfigureAwait(false);
        BlobProperties copied = (await to.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        if (copied.BlobCopyStatus is { } status && status != CopyStatus.Success)
        {
            throw new IOException($"Copying '{source}' to '{destination}' ended {status}: {copied.CopyStatusDescription}");
        }
        await from.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<StoragePage> ListAsync(string prefix, string? after, int pageSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        string folder = FolderPrefix(prefix);
        // Azure lists "a/" after "a-b" ('/' sorts after '-'), so with the '/' removed its order is not ordinal: every
        // child is read, then sorted. Children of one registry folder are few enough for that.
        var names = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (BlobHierarchyItem item in _container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", folder, cancellationToken)
            .ConfigureAwait(false))
        {
            string name = (item.IsPrefix ? item.Prefix : item.Blob.Name)[folder.Length..].TrimEnd('/');
            if (name.Length > 0 && (after is null || string.CompareOrdinal(name, after) > 0)) { names.Add(name); }
        }
        if (names.Count <= pageSize) { return new StoragePage([.. names], null); }
        List<string> page = [.. names.Take(pageSize)];
        return new StoragePage(page, page[^1]);
    }

    public async IAsyncEnumerable<StorageEntry> WalkAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string folder = FolderPrefix(prefix);
        int strip = _root.Length == 0 ? 0 : _root.Length + 1;
        await foreach (BlobItem item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, folder, cancellationToken).ConfigureAwait(false))
        {
            yield return new StorageEntry(item.Name[strip..], item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? DateTimeOffset.MinValue);
        }
    }

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken)
    {
        if (BlobName(path).Length > 0 && (await Blob(path).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value) { return true; }
        await foreach (Page<BlobItem> page in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, FolderPrefix(path), cancellationToken)
            .AsPages(pageSizeHint: 1).ConfigureAwait(false))
        {
            if (page.Values.Count > 0) { return true; }
            if (page.ContinuationToken is null) { break; }
        }
        return false;
    }

    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        if (BlobName(path).Length > 0) { await Blob(path).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false); }
        await Parallel.ForEachAsync(_container.GetBlobsAsync(BlobTraits.None, BlobStates.None, FolderPrefix(path), cancellationToken),
            new ParallelOptions { MaxDegreeOfParallelism = DeleteParallelism, CancellationToken = cancellationToken },
            async (item, token) => await _container.GetBlobClient(item.Name).DeleteIfExistsAsync(cancellationToken: token).ConfigureAwait(false))
            .ConfigureAwait(false);
    }

    public async Task<bool> DeleteIfMatchAsync(string path, string etag, CancellationToken cancellationToken)
    {
        try
        {
            await Blob(path).DeleteAsync(DeleteSnapshotsOption.None, new BlobRequestConditions { IfMatch = new ETag(etag) }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { return true; }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            // If-Match also fails on a missing blob: that one is "already deleted".
            return !(await Blob(path).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
    }

    public Task<Uri?> GetDownloadUrlAsync(string path, TimeSpan lifetime, CancellationToken cancellationToken) =>
        _urls.GetAsync(_container.GetBlobClient(BlobName(path)), lifetime, cancellationToken);

    public string? GetLocalPath(string path) => null;
}
