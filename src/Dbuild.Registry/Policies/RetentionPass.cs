using System.Globalization;
using Dbuild.Oci;
using Dbuild.Registry.Storage;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Policies;

/// <summary>
/// <c>policies.retention</c>, run by each GC pass before its mark phase: in every repository the first matching rule
/// covers, the tags no condition keeps (<see cref="RetentionRule"/>) are removed. Immutable tags are never removed. The
/// manifests those tags held are then no roots of the mark phase (even with <c>untagged: keep</c>) unless another tag
/// still names them, so the sweep frees what they alone held. A dry run removes nothing and reports the same.
/// </summary>
internal sealed class RetentionPass(RegistryStorage storage, PolicySettings policies, TimeProvider timeProvider, ILogger logger)
{
    private readonly IStorageDriver _driver = storage.Driver;

    public bool Enabled => policies.Retention.Count > 0;

    public async Task<RetentionResult> RunAsync(bool dryRun, Action<string> emit, CancellationToken cancellationToken)
    {
        var result = new RetentionResult();
        if (!Enabled) { return result; }
        DateTimeOffset now = timeProvider.GetUtcNow();
        foreach (string repository in await storage.ListRepositoriesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (policies.Retention.Find(r => r.Repository.IsMatch(repository, null)) is not { } rule) { continue; }
            var tags = new List<(string Tag, Digest Digest, StorageStat Link)>();
            foreach (string tag in await storage.ListTagsAsync(repository, cancellationToken).ConfigureAwait(false) ?? [])
            {
                string link = RegistryStorage.TagCurrentLinkPath(repository, tag);
                if (await _driver.StatAsync(link, cancellationToken).ConfigureAwait(false) is not { } stat) { continue; }
                if (await storage.ReadLinkAsync(link, cancellationToken).ConfigureAwait(false) is not { } digest) { continue; }
                tags.Add((tag, digest, stat));
            }
            // Newest first; equal times by name, so a pass decides the same way every time.
            tags.Sort((a, b) => b.Link.Modified != a.Link.Modified ? b.Link.Modified.CompareTo(a.Link.Modified) : string.CompareOrdinal(b.Tag, a.Tag));
            for (int i = 0; i < tags.Count; i++)
            {
                (string tag, Digest digest, StorageStat link) = tags[i];
                if (Keeps(rule, i, tag, now - link.Modified) || policies.Immutable.Exists(r => r.Covers(repository, tag))) { continue; }
                emit($"{repository}: retention removes tag {tag} ({digest}, written {link.Modified.ToString("O", CultureInfo.InvariantCulture)}) by {rule.Key}");
                if (!dryRun && !await RemoveAsync(repository, tag, link, cancellationToken).ConfigureAwait(false)) { continue; }
                if (!dryRun) { Log.RetentionRemovedTag(logger, repository, tag, digest, link.Modified, rule.Key); }
                result.Add(repository, tag, digest);
            }
        }
        return result;
    }

    internal static bool Keeps(RetentionRule rule, int newest, string tag, TimeSpan age) =>
        newest < rule.KeepLast || rule.Keep.Any(p => p.IsMatch(tag)) || age < rule.MaxAge;

    /// <summary>Removes the tag unless it was written again since it was read (a push won: the tag is new, not old).</summary>
    private async Task<bool> RemoveAsync(string repository, string tag, StorageStat link, CancellationToken cancellationToken)
    {
        if (!await _driver.DeleteIfMatchAsync(RegistryStorage.TagCurrentLinkPath(repository, tag), link.ETag, cancellationToken).ConfigureAwait(false)) { return false; }
        await _driver.DeleteAsync(RegistryStorage.TagPath(repository, tag), cancellationToken).ConfigureAwait(false);
        return true;
    }
}
