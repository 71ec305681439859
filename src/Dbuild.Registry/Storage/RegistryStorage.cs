using System.Text;
using Dbuild.Oci;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Storage;

/// <summary>
/// registry:2's storage layout over an <see cref="IBlobStore"/>: content-addressed blobs shared by every repository,
/// per-repository links that grant access to them, manifest revisions, tags and uploads.
/// </summary>
/// <remarks>distribution/distribution v2.8 registry/storage/paths.go describes the same tree.</remarks>
internal sealed partial class RegistryStorage(IBlobStore store, TimeProvider timeProvider, ILogger<RegistryStorage> logger)
{
    private const string Root = "docker/registry/v2";
    private const int MaxLinkBytes = 1024;

    /// <summary>Manifests written by other registries may exceed our push limit; reading stays bounded anyway.</summary>
    public const int MaxStoredManifestBytes = 64 * 1024 * 1024;

    public IBlobStore Store => store;

    internal static string BlobDataPath(Digest digest) => $"{Root}/blobs/{digest.Algorithm}/{digest.Encoded[..2]}/{digest.Encoded}/data";
    internal static string RepositoryPath(string name) => $"{Root}/repositories/{name}";
    internal static string LayerLinkPath(string name, Digest digest) => $"{RepositoryPath(name)}/_layers/{digest.Algorithm}/{digest.Encoded}/link";
    internal static string RevisionLinkPath(string name, Digest digest) => $"{RepositoryPath(name)}/_manifests/revisions/{digest.Algorithm}/{digest.Encoded}/link";
    internal static string TagPath(string name, string tag) => $"{RepositoryPath(name)}/_manifests/tags/{tag}";
    internal static string TagCurrentLinkPath(string name, string tag) => $"{TagPath(name, tag)}/current/link";
    internal static string TagIndexLinkPath(string name, string tag, Digest digest) => $"{TagPath(name, tag)}/index/{digest.Algorithm}/{digest.Encoded}/link";

    // ---- blobs ----

    /// <summary>The size of a blob in global storage, or null.</summary>
    public Task<long?> StatBlobAsync(Digest digest, CancellationToken cancellationToken) => store.GetSizeAsync(BlobDataPath(digest), cancellationToken);

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

    public Task<Stream?> OpenBlobAsync(Digest digest, long offset, CancellationToken cancellationToken) =>
        store.OpenReadAsync(BlobDataPath(digest), offset, cancellationToken);

    public string? GetBlobLocalPath(Digest digest) => store.GetLocalPath(BlobDataPath(digest));

    // ---- manifests and tags ----

    public Task<bool> HasManifestAsync(string name, Digest digest, CancellationToken cancellationToken) =>
        IsLinkedAsync(RevisionLinkPath(name, digest), digest, cancellationToken);

    /// <summary>The manifest bytes when the repository has that revision, else null.</summary>
    public async Task<byte[]?> GetManifestAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        if (!await HasManifestAsync(name, digest, cancellationToken).ConfigureAwait(false)) { return null; }
        return await store.ReadAllAsync(BlobDataPath(digest), MaxStoredManifestBytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores manifest bytes as a blob, links the revision and, when given, points the tag at it.</summary>
    public async Task PutManifestAsync(string name, Digest digest, ReadOnlyMemory<byte> content, string? tag, CancellationToken cancellationToken)
    {
        string data = BlobDataPath(digest);
        if (await store.GetSizeAsync(data, cancellationToken).ConfigureAwait(false) != content.Length)
        {
            await store.WriteAllAsync(data, content, cancellationToken).ConfigureAwait(false);
        }
        await WriteLinkAsync(RevisionLinkPath(name, digest), digest, cancellationToken).ConfigureAwait(false);
        if (tag is not null)
        {
            await WriteLinkAsync(TagIndexLinkPath(name, tag, digest), digest, cancellationToken).ConfigureAwait(false);
            await WriteLinkAsync(TagCurrentLinkPath(name, tag), digest, cancellationToken).ConfigureAwait(false);
        }
        Log.ManifestStored(logger, name, digest, tag ?? "");
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
        string link = RevisionLinkPath(name, digest);
        await store.DeleteAsync(link[..link.LastIndexOf('/')], cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Tags in ordinal order, or null when the repository does not exist.</summary>
    public async Task<IReadOnlyList<string>?> ListTagsAsync(string name, CancellationToken cancellationToken)
    {
        if (!await store.ExistsAsync(RepositoryPath(name), cancellationToken).ConfigureAwait(false)) { return null; }
        IReadOnlyList<string> tags = await store.ListAsync($"{RepositoryPath(name)}/_manifests/tags", cancellationToken).ConfigureAwait(false);
        return [.. tags.Order(StringComparer.Ordinal)];
    }

    /// <summary>Digests of every manifest revision in the repository.</summary>
    public async Task<IReadOnlyList<Digest>> ListRevisionsAsync(string name, CancellationToken cancellationToken)
    {
        var result = new List<Digest>();
        string revisions = $"{RepositoryPath(name)}/_manifests/revisions";
        foreach (string algorithm in await store.ListAsync(revisions, cancellationToken).ConfigureAwait(false))
        {
            foreach (string encoded in await store.ListAsync($"{revisions}/{algorithm}", cancellationToken).ConfigureAwait(false))
            {
                if (Digest.TryParse($"{algorithm}:{encoded}", out Digest digest)) { result.Add(digest); }
            }
        }
        return result;
    }

    public Task<bool> RepositoryExistsAsync(string name, CancellationToken cancellationToken) =>
        store.ExistsAsync(RepositoryPath(name), cancellationToken);

    /// <summary>Every repository (a folder holding <c>_manifests</c>), in ordinal order.</summary>
    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(CancellationToken cancellationToken)
    {
        var result = new List<string>();
        var pending = new Stack<string>();
        pending.Push("");
        while (pending.Count > 0)
        {
            string relative = pending.Pop();
            string path = relative.Length == 0 ? $"{Root}/repositories" : $"{Root}/repositories/{relative}";
            IReadOnlyList<string> children = await store.ListAsync(path, cancellationToken).ConfigureAwait(false);
            if (relative.Length > 0 && children.Contains("_manifests")) { result.Add(relative); }
            foreach (string child in children)
            {
                if (!child.StartsWith('_')) { pending.Push(relative.Length == 0 ? child : $"{relative}/{child}"); }
            }
        }
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    // ---- links ----

    private async Task<bool> IsLinkedAsync(string link, Digest digest, CancellationToken cancellationToken) =>
        await ReadLinkAsync(link, cancellationToken).ConfigureAwait(false) == digest;

    private async Task<Digest?> ReadLinkAsync(string link, CancellationToken cancellationToken)
    {
        byte[]? content;
        try { content = await store.ReadAllAsync(link, MaxLinkBytes, cancellationToken).ConfigureAwait(false); }
        catch (InvalidDataException) { return null; }
        return content is not null && Digest.TryParse(Encoding.UTF8.GetString(content).Trim(), out Digest digest) ? digest : null;
    }

    private Task WriteLinkAsync(string link, Digest digest, CancellationToken cancellationToken) =>
        store.WriteAllAsync(link, Encoding.UTF8.GetBytes(digest.ToString()), cancellationToken);
}
