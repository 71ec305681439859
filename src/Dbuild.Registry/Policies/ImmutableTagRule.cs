using Dbuild.Registry.Auth.Rules;

namespace Dbuild.Registry.Policies;

/// <summary>
/// One entry of <c>policies.immutable</c>: in repositories matching <see cref="Repository"/>, tags matching any of
/// <see cref="Tags"/> (every tag when empty) cannot be moved to another manifest or deleted once they exist.
/// </summary>
internal sealed record ImmutableTagRule(string Key, RepositoryGlob Repository, IReadOnlyList<TagPattern> Tags)
{
    public bool Covers(string repository, string tag) =>
        Repository.IsMatch(repository, null) && (Tags.Count == 0 || Tags.Any(t => t.IsMatch(tag)));

    /// <summary>How the rule reads in an error message: <c>policies.immutable[0] (repository prod/**, tags v*)</c>.</summary>
    public string Describe() => Tags.Count == 0
        ? $"{Key} (repository {Repository.Text}, every tag)"
        : $"{Key} (repository {Repository.Text}, tags {string.Join(", ", Tags.Select(t => t.Text))})";
}
