using Dbuild.Registry.Auth.Rules;

namespace Dbuild.Registry.Policies;

/// <summary>
/// One entry of <c>policies.retention</c>. A tag of a matching repository is kept when any condition keeps it: it is one
/// of the newest <see cref="KeepLast"/> tags (by the time its tag link was written), it matches a <see cref="Keep"/>
/// pattern, or it is younger than <see cref="MaxAge"/>. Every other tag is removed by the GC pass.
/// </summary>
internal sealed record RetentionRule(string Key, RepositoryGlob Repository, int? KeepLast, IReadOnlyList<TagPattern> Keep, TimeSpan? MaxAge);
