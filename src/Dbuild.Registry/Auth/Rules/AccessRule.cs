namespace Dbuild.Registry.Auth.Rules;

/// <summary>
/// One entry of the rules file. <see cref="Name"/> is null for a rule that only gives <c>catalog</c>: such a rule
/// takes no part in deciding repository access.
/// </summary>
internal sealed record AccessRule(RuleAccount Account, RepositoryGlob? Name, RuleActions Actions, int Line)
{
    /// <summary>Whether this rule decides <paramref name="repository"/> for <paramref name="account"/>.</summary>
    public bool Decides(string? account, string repository) =>
        Name is not null && Account.Matches(account) && Name.IsMatch(repository, account);
}
