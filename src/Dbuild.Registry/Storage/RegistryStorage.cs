using System.Text;
using Dbuild.Oci;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Storage;

/// <summary>
/// registry:2's storage layout over an <see cref="IStorageDriver"/>: content-addressed blobs shared by every repository,
/// per-repository links that grant access to them, manifest revisions, tags and uploads.
/// </summary>
/// <remarks>distribution/distribution v2.8 registry/storage/paths.go describes the same tree.</remarks>
internal sealed partial class RegistryStorage(IStorageDriver store, BlobMarkers markers, TimeProvider timeProvider, ILogger<RegistryStorage> logger)
{
    private const string Root = "docker/registry/v2";
    private const int MaxLinkBytes = 1024;

    /// <summary>Manifests written by other registries may exceed our push limit; reading stays bounded anyway.</summary>
    public const int MaxStoredManifestBytes = 64 * 1024 * 1024;

    public IStorageDriver Driver => store;

    /// <summary>Verified manifest bytes by digest (immutable); existence always comes from storage.</summary>
    private readonly ManifestCache _manifests = new();

    /// <summary>The GC age markers requests refresh (see <see cref="BlobMarkers"/>).</summary>
    public BlobMarkers Markers => markers;

    /// <summary>Page size for listings of storage folders.</summary>
    private const int ListPageSize = 1000;

    internal const string BlobsRoot = $"{Root}/blobs";
    internal static string BlobPath(Digest digest) => $"{BlobsRoot}/{digest.Algorithm}/{digest.Encoded[..2]}/{digest.Encoded}";
    internal static string BlobDataPath(Digest digest) => $"{Root}/blobs/{digest.Algorithm}/{digest.Encoded[..2]}/{digest.Encoded}/data";
    internal static string RepositoryPath(string name) => $"{Root}/repositories/{name}";
    internal static string LayerLinkPath(string name, Digest digest) => $"{RepositoryPath(name)}/_layers/{digest.Algorithm}/{digest.Encoded}/link";
    internal static string RevisionLinkPath(string name, Digest digest) => $"{RepositoryPath(name)}/_manifests/revisions/{digest.Algorithm}/{digest.Encoded}/link";
    internal static string TagPath(string name, string tag) => $"{RepositoryPath(name)}/_manifests/tags/{tag}";
    internal static string TagCurrentLinkPath(string name, string tag) => $"{TagPath(name, tag)}/current/link";
    internal static string TagIndexLinkPath(string name, string tag, Digest digest) => $"{TagPath(name, tag)}/index/{digest.Algorithm}/{digest.Encoded}/link";

    // ---- blobs ----

    /// <summary>The size of a blob in global storage, or null.</summary>
    public async Task<long?> StatBlobAsync(Digest digest, CancellationToken cancellationToken) =>
        (await store.StatAsync(BlobDataPath(digest), cancellationToken).ConfigureAwait(false))?.Size;

    /// <summary>The size of a blob the repository may read (a layer link or a manifest revision), or null.</summary>
    public async Task<long?> StatRepositoryBlobAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        if (!await IsLinkedAsync(LayerLinkPath(name, digest), digest, cancellationToken).ConfigureAwait(false)
            && !await IsLinkedAsync(RevisionLinkPath(name, digest), digest, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        return await StatBlobAsync(digest, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> IsLayerLinkedAsync(string name, Digest digest, CancellationToken cancellationToken) =>
        IsLinkedAsync(LayerLinkPath(name, digest), digest, cancellationToken);

    public Task LinkLayerAsync(string name, Digest digest, CancellationToken cancellationToken) =>
        WriteLinkAsync(LayerLinkPath(name, digest), digest, cancellationToken);

    /// <summary>Removes the repository's link to a blob (registry:2 semantics: the data stays until garbage collection).</summary>
    public async Task<bool> UnlinkLayerAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        string link = LayerLinkPath(name, digest);
        if (!await IsLinkedAsync(link, digest, cancellationToken).ConfigureAwait(false)) { return false; }
        await store.DeleteAsync(link[..link.LastIndexOf('/')], cancellationToken).ConfigureAwait(false);
        return true;
    }

    public Task<Stream?> OpenBlobAsync(Digest digest, long offset, long? length, CancellationToken cancellationToken) =>
        store.OpenReadAsync(BlobDataPath(digest), offset, length, cancellationToken);

    /// <summary>A short-lived URL the client can read the blob from directly, or null when the driver has none.</summary>
    public Task<Uri?> GetBlobDownloadUrlAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken) =>
        store.GetDownloadUrlAsync(BlobDataPath(digest), lifetime, cancellationToken);

    public string? GetBlobLocalPath(Digest digest) => store.GetLocalPath(BlobDataPath(digest));

    // ---- manifests and tags ----

    public Task<bool> HasManifestAsync(string name, Digest digest, CancellationToken cancellationToken) =>
        IsLinkedAsync(RevisionLinkPath(name, digest), digest, cancellationToken);

    /// <summary>The manifest bytes when the repository has that revision, else null.</summary>
    public async Task<byte[]?> GetManifestAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        if (!await HasManifestAsync(name, digest, cancellationToken).ConfigureAwait(false)) { return null; }
        if (_manifests.TryGet(digest, out byte[] cached)) { return cached; }
        byte[]? content = (await store.ReadAllAsync(BlobDataPath(digest), MaxStoredManifestBytes, cancellationToken).ConfigureAwait(false))?.Content;
        if (content is not null) { _manifests.Add(digest, content); }
        return content;
    }

    /// <summary>The media type of manifest bytes <see cref="GetManifestAsync"/> returned (remembered with cached bytes).</summary>
    public string ManifestMediaType(Digest digest, byte[] content) => _manifests.MediaTypeOf(digest, content, Api.ManifestInfo.DetectMediaType);

    /// <summary>
    /// Stores manifest bytes as a blob, links the revision and, when given, points the tag at it. Returns what was there
    /// before, so <see cref="RollbackManifestAsync"/> can undo it.
    /// </summary>
    public async Task<ManifestWrite> PutManifestAsync(string name, Digest digest, ReadOnlyMemory<byte> content, string? tag, CancellationToken cancellationToken)
    {
        string data = BlobDataPath(digest);
        bool revisionExisted = await HasManifestAsync(name, digest, cancellationToken).ConfigureAwait(false);
        Digest? previousTag = tag is null ? null : await ResolveTagAsync(name, tag, cancellationToken).ConfigureAwait(false);
        // Content-addressed: an existing blob of that digest already holds these bytes (its size is the cheap check
        // against a torn write by another registry).
        if ((await store.StatAsync(data, cancellationToken).ConfigureAwait(false))?.Size != content.Length)
        {
            await store.WriteAsync(data, content, WriteCondition.None, cancellationToken).ConfigureAwait(false);
        }
        await WriteLinkAsync(RevisionLinkPath(name, digest), digest, cancellationToken).ConfigureAwait(false);
        if (tag is not null)
        {
            await WriteLinkAsync(TagIndexLinkPath(name, tag, digest), digest, cancellationToken).ConfigureAwait(false);
            await WriteLinkAsync(TagCurrentLinkPath(name, tag), digest, cancellationToken).ConfigureAwait(false);
        }
        Log.ManifestStored(logger, name, digest, tag ?? "");
        return new ManifestWrite(name, digest, tag, revisionExisted, previousTag);
    }

    /// <summary>Undoes a manifest PUT whose blobs vanished before it was acknowledged: the tag goes back, a new revision goes.</summary>
    public async Task RollbackManifestAsync(ManifestWrite write, CancellationToken cancellationToken)
    {
        if (write.Tag is { } tag && await ResolveTagAsync(write.Name, tag, cancellationToken).ConfigureAwait(false) == write.Digest)
        {
            if (write.PreviousTag is { } previous) { await WriteLinkAsync(TagCurrentLinkPath(write.Name, tag), previous, cancellationToken).ConfigureAwait(false); }
            else { await store.DeleteAsync(TagPath(write.Name, tag), cancellationToken).ConfigureAwait(false); }
        }
        if (!write.RevisionExisted) { await DeleteRevisionLinkAsync(write.Name, write.Digest, cancellationToken).ConfigureAwait(false); }
    }

    internal Task DeleteRevisionLinkAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        string link = RevisionLinkPath(name, digest);
        return store.DeleteAsync(link[..link.LastIndexOf('/')], cancellationToken);
    }

    public async Task<Digest?> ResolveTagAsync(string name, string tag, CancellationToken cancellationToken) =>
        await ReadLinkAsync(TagCurrentLinkPath(name, tag), cancellationToken).ConfigureAwait(false);

    public async Task<bool> UntagAsync(string name, string tag, CancellationToken cancellationToken)
    {
        if (await ResolveTagAsync(name, tag, cancellationToken).ConfigureAwait(false) is null) { return false; }
        await store.DeleteAsync(TagPath(name, tag), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Deletes a manifest revision and every tag that points at it (registry:2 does the same).</summary>
    public async Task<bool> DeleteManifestAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        if (!await HasManifestAsync(name, digest, cancellationToken).ConfigureAwait(false)) { return false; }
        foreach (string tag in await ListTagsAsync(name, cancellationToken).ConfigureAwait(false) ?? [])
        {
            if (await ResolveTagAsync(name, tag, cancellationToken).ConfigureAwait(false) == digest)
            {
                await store.DeleteAsync(TagPath(name, tag), cancellationToken).ConfigureAwait(false);
            }
        }
        await DeleteRevisionLinkAsync(name, digest, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Tags in ordinal order, or null when the repository does not exist.</summary>
    public async Task<IReadOnlyList<string>?> ListTagsAsync(string name, CancellationToken cancellationToken)
    {
        if (!await store.ExistsAsync(RepositoryPath(name), cancellationToken).ConfigureAwait(false)) { return null; }
        return await ListAllAsync($"{RepositoryPath(name)}/_manifests/tags", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Digests of every manifest revision in the repository.</summary>
    public async Task<IReadOnlyList<Digest>> ListRevisionsAsync(string name, CancellationToken cancellationToken)
    {
        var result = new List<Digest>();
        string revisions = $"{RepositoryPath(name)}/_manifests/revisions";
        foreach (string algorithm in await ListAllAsync(revisions, cancellationToken).ConfigureAwait(false))
        {
            foreach (string encoded in await ListAllAsync($"{revisions}/{algorithm}", cancellationToken).ConfigureAwait(false))
            {
                if (Digest.TryParse($"{algorithm}:{encoded}", out Digest digest)) { result.Add(digest); }
            }
        }
        return result;
    }

    public Task<bool> RepositoryExistsAsync(string name, CancellationToken cancellationToken) =>
        store.ExistsAsync(RepositoryPath(name), cancellationToken);

    /// <summary>Every repository (a folder holding <c>_manifests</c>), in ordinal order.</summary>
    public Task<IReadOnlyList<string>> ListRepositoriesAsync(CancellationToken cancellationToken) =>
        ListRepositoryFoldersAsync("_manifests", cancellationToken);

    /// <summary>Every direct child of a storage folder, in ordinal order (all pages).</summary>
    internal async Task<List<string>> ListAllAsync(string prefix, CancellationToken cancellationToken)
    {
        var result = new List<string>();
        string? after = null;
        do
        {
            StoragePage page = await store.ListAsync(prefix, after, ListPageSize, cancellationToken).ConfigureAwait(false);
            result.AddRange(page.Names);
            after = page.Next;
        }
        while (after is not null);
        return result;
    }

    // ---- links ----

    private async Task<bool> IsLinkedAsync(string link, Digest digest, CancellationToken cancellationToken) =>
        await ReadLinkAsync(link, cancellationToken).ConfigureAwait(false) == digest;

    internal async Task<Digest?> ReadLinkAsync(string link, CancellationToken cancellationToken)
    {
        byte[]? content;
        try { content = (await store.ReadAllAsync(link, MaxLinkBytes, cancellationToken).ConfigureAwait(false))?.Content; }
        catch (InvalidDataException) { return null; }
        return content is not null && Digest.TryParse(Encoding.UTF8.GetString(content).Trim(), out Digest digest) ? digest : null;
    }

    private async Task WriteLinkAsync(string link, Digest digest, CancellationToken cancellationToken) =>
        await store.WriteAsync(link, Encoding.UTF8.GetBytes(digest.ToString()), WriteCondition.None, cancellationToken).ConfigureAwait(false);
}

/// <summary>What a manifest PUT changed: whether the revision was already there and where the tag pointed before.</summary>
internal sealed record ManifestWrite(string Name, Digest Digest, string? Tag, bool RevisionExisted, Digest? PreviousTag);
