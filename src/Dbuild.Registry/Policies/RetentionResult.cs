using Dbuild.Oci;

namespace Dbuild.Registry.Policies;

/// <summary>What a retention pass removed: per repository the tags and the manifests they named.</summary>
internal sealed class RetentionResult
{
    private readonly Dictionary<string, (HashSet<string> Tags, HashSet<Digest> Released)> _removed = new(StringComparer.Ordinal);

    public int TagsRemoved { get; private set; }

    public void Add(string repository, string tag, Digest digest)
    {
        if (!_removed.TryGetValue(repository, out var entry)) { _removed[repository] = entry = ([], []); }
        entry.Tags.Add(tag);
        entry.Released.Add(digest);
        TagsRemoved++;
    }

    public bool RemovedTag(string repository, string tag) => _removed.TryGetValue(repository, out var entry) && entry.Tags.Contains(tag);

    public bool Released(string repository, Digest digest) => _removed.TryGetValue(repository, out var entry) && entry.Released.Contains(digest);
}
