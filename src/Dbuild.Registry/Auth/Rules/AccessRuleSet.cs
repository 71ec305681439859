namespace Dbuild.Registry.Auth.Rules;

/// <summary>
/// The parsed rules file, immutable: the first rule whose account and name match decides a repository, and its
/// actions are the grant; no matching rule grants nothing. The catalog may be listed when any rule for the account
/// gives <c>catalog</c>.
/// </summary>
internal sealed class AccessRuleSet(IReadOnlyList<AccessRule> rules) : IAccessRules
{
    private readonly AccessRule[] _rules = [.. rules];

    public int Count => _rules.Length;

    public IReadOnlySet<string> Grant(string? account, string repository, IReadOnlyCollection<string> requested)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(requested);
        AccessRule? rule = Deciding(account, repository);
        return rule is null ? RuleActionNames.Nothing : RuleActionNames.Grant(RuleActionNames.Requested(requested), rule.Actions);
    }

    public bool MayListCatalog(string? account)
    {
        foreach (AccessRule rule in _rules)
        {
            if ((rule.Actions & RuleActions.Catalog) != 0 && rule.Account.Matches(account)) { return true; }
        }
        return false;
    }

    /// <summary>The rule that decides <paramref name="repository"/> for <paramref name="account"/>, if any.</summary>
    public AccessRule? Deciding(string? account, string repository)
    {
        foreach (AccessRule rule in _rules)
        {
            if (rule.Decides(account, repository)) { return rule; }
        }
        return null;
    }
}
