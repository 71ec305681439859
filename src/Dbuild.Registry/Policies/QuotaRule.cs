using Dbuild.Registry.Auth.Rules;

namespace Dbuild.Registry.Policies;

/// <summary>
/// One entry of <c>policies.quota</c>: every repository matching <see cref="Repository"/> counts together (a namespace
/// such as <c>team-a/**</c>) against <see cref="Size"/> bytes.
/// </summary>
internal sealed record QuotaRule(string Key, RepositoryGlob Repository, long Size);
