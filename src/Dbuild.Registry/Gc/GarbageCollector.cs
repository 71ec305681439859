using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Registry.Api;
using Dbuild.Registry.Policies;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Gc;

/// <summary>
/// The mark phase: per repository, the roots (every tag's manifest; every revision with <c>untagged: keep</c>) and what
/// they reach: an index's children, the referrers (manifests whose <c>subject</c> is a kept manifest) and every blob
/// a kept image manifest names. Memory: the set of marked digests, plus one repository's revisions at a time.
/// </summary>
internal sealed class GarbageCollector(RegistryStorage storage)
{
    /// <remarks>
    /// Tags <paramref name="retention"/> removed are no roots (in a dry run they are still stored), nor, with
    /// <c>untagged: keep</c>, are the revisions they named: retention means to free them.
    /// </remarks>
    public async Task<MarkResult> MarkAsync(bool deleteUntagged, Action<string> emit, CancellationToken cancellationToken, RetentionResult? retention = null)
    {
        retention ??= new RetentionResult();
        var result = new MarkResult();
        foreach (string repository in await storage.ListRepositoriesAsync(cancellationToken).ConfigureAwait(false))
        {
            emit(repository);
            await MarkRepositoryAsync(repository, deleteUntagged, retention, result, emit, cancellationToken).ConfigureAwait(false);
        }
        return result;
    }

    private async Task MarkRepositoryAsync(string repository, bool deleteUntagged, RetentionResult retention, MarkResult result, Action<string> emit, CancellationToken cancellationToken)
    {
        var revisions = new List<Digest>();
        var references = new Dictionary<Digest, ManifestReferences>();
        var referrers = new Dictionary<Digest, List<Digest>>();
        foreach (Digest revision in await storage.ListRevisionsAsync(repository, cancellationToken).ConfigureAwait(false))
        {
            // registry:2 deletes a revision's link and leaves its folder: that is no revision.
            if (!await storage.HasManifestAsync(repository, revision, cancellationToken).ConfigureAwait(false)) { continue; }
            ManifestReferences read = await ReadReferencesAsync(repository, revision, cancellationToken).ConfigureAwait(false);
            revisions.Add(revision);
            references[revision] = read;
            if (read.Subject is { } subject)
            {
                if (!referrers.TryGetValue(subject, out List<Digest>? list)) { referrers[subject] = list = []; }
                list.Add(revision);
            }
        }
        IReadOnlyList<string> tags = await storage.ListTagsAsync(repository, cancellationToken).ConfigureAwait(false) ?? [];
        var pending = new Queue<Digest>();
        foreach (string tag in tags)
        {
            if (retention.RemovedTag(repository, tag)) { continue; }
            if (await storage.ResolveTagAsync(repository, tag, cancellationToken).ConfigureAwait(false) is { } tagged) { pending.Enqueue(tagged); }
        }
        if (!deleteUntagged)
        {
            foreach (Digest revision in revisions.Where(r => !retention.Released(repository, r))) { pending.Enqueue(revision); }
        }
        var kept = new HashSet<Digest>();
        while (pending.TryDequeue(out Digest digest))
        {
            if (!kept.Add(digest)) { continue; }
            if (result.Marked.Add(digest)) { emit($"{repository}: marking manifest {digest} "); }
            // A tag or an index entry naming no revision of this repository: its digest is kept, there is nothing to expand.
            if (!references.TryGetValue(digest, out ManifestReferences? read) || read.Missing) { continue; }
            if (read.Unreadable is { } problem)
            {
                throw new InvalidDataException($"{repository}: manifest {digest} is kept but cannot be read ({problem}); "
                    + "nothing was deleted, so none of its blobs is lost. Fix or delete that manifest.");
            }
            foreach (Digest blob in read.Blobs)
            {
                if (result.Marked.Add(blob)) { emit($"{repository}: marking blob {blob}"); }
            }
            foreach (Digest child in read.Children) { pending.Enqueue(child); }
            if (referrers.TryGetValue(digest, out List<Digest>? list)) { list.ForEach(pending.Enqueue); }
        }
        if (revisions.Count == kept.Count) { return; }
        // The tags whose history (tags/T/index) names each unreachable revision: one listing per tag, not one delete per
        // tag and revision.
        var history = new Dictionary<Digest, List<string>>();
        foreach (string tag in tags)
        {
            string index = RegistryStorage.TagPath(repository, tag) + "/index";
            foreach (string algorithm in await storage.ListAllAsync(index, cancellationToken).ConfigureAwait(false))
            {
                foreach (string encoded in await storage.ListAllAsync($"{index}/{algorithm}", cancellationToken).ConfigureAwait(false))
                {
                    if (!Digest.TryParse($"{algorithm}:{encoded}", out Digest digest) || kept.Contains(digest)) { continue; }
                    if (!history.TryGetValue(digest, out List<string>? list)) { history[digest] = list = []; }
                    list.Add(tag);
                }
            }
        }
        foreach (Digest revision in revisions)
        {
            if (!kept.Contains(revision)) { result.Unreachable.Add(new UnreachableRevision(repository, revision, history.GetValueOrDefault(revision) ?? [])); }
        }
    }

    private async Task<ManifestReferences> ReadReferencesAsync(string repository, Digest revision, CancellationToken cancellationToken)
    {
        byte[]? content;
        try { content = await storage.GetManifestAsync(repository, revision, cancellationToken).ConfigureAwait(false); }
        catch (InvalidDataException ex) { return ManifestReferences.Broken(ex.Message); }
        if (content is null) { return ManifestReferences.Gone; }
        try
        {
            ManifestInfo info = ManifestInfo.Parse(content, null);
            return new ManifestReferences(info.Blobs, info.Children, info.Subject, false, null);
        }
        catch (DistributionException ex) { return Schema1References(content) ?? ManifestReferences.Broken(ex.Message); }
    }

    /// <summary>registry:2 data may hold Docker schema 1 manifests: their blobs are <c>fsLayers[].blobSum</c>.</summary>
    private static ManifestReferences? Schema1References(byte[] content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("schemaVersion", out JsonElement version)
                || version.ValueKind != JsonValueKind.Number || version.GetInt32() != 1
                || !root.TryGetProperty("fsLayers", out JsonElement layers) || layers.ValueKind != JsonValueKind.Array)
            {
                return null;
            }
            var blobs = new List<Digest>();
            foreach (JsonElement layer in layers.EnumerateArray())
            {
                string? sum = layer.ValueKind == JsonValueKind.Object && layer.TryGetProperty("blobSum", out JsonElement value) ? value.GetString() : null;
                if (!Digest.TryParse(sum, out Digest digest)) { return null; }
                blobs.Add(digest);
            }
            return new ManifestReferences(blobs, [], null, false, null);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException) { return null; }
    }

    private sealed record ManifestReferences(IReadOnlyList<Digest> Blobs, IReadOnlyList<Digest> Children, Digest? Subject, bool Missing, string? Unreadable)
    {
        /// <summary>The revision link names a blob that is not stored (deleted meanwhile, or lost): nothing to follow.</summary>
        public static ManifestReferences Gone { get; } = new([], [], null, true, null);

        public static ManifestReferences Broken(string problem) => new([], [], null, false, problem);
    }
}

/// <summary>The mark phase's answer: every digest to keep, and the revisions no root reaches.</summary>
internal sealed class MarkResult
{
    public HashSet<Digest> Marked { get; } = [];

    public List<UnreachableRevision> Unreachable { get; } = [];
}

/// <summary>A manifest revision of <see cref="Repository"/> that no tag reaches; <see cref="Tags"/> still list it in their history.</summary>
internal sealed record UnreachableRevision(string Repository, Digest Digest, IReadOnlyList<string> Tags);
