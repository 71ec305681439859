using System.Collections.Frozen;

namespace Dbuild.Registry.Auth.Rules;

/// <summary>What a rule allows, as bits, so a grant is an AND and its answer one of a few shared sets.</summary>
[Flags]
internal enum RuleActions
{
    None = 0,
    Pull = 1,
    Push = 2,
    Delete = 4,
    Catalog = 8,
    /// <summary>A requested <c>*</c> (every repository action); granted only with pull, push and delete together.</summary>
    Wildcard = 16,
}

/// <summary>Action names as the token spec and the rules file spell them, and the answer sets of <see cref="IAccessRules.Grant"/>.</summary>
internal static class RuleActionNames
{
    public const RuleActions Repository = RuleActions.Pull | RuleActions.Push | RuleActions.Delete;
    public const string Known = "pull, push, delete, catalog, or \"*\" for all of them";

    // One immutable set per combination, made once: Grant answers without building a set per call.
    private static readonly FrozenSet<string>[] Sets = Enumerable.Range(0, 32).Select(mask => Names((RuleActions)mask).ToFrozenSet(StringComparer.Ordinal)).ToArray();

    /// <summary>An action named in the rules file; <c>*</c> is every action.</summary>
    public static bool TryParse(string name, out RuleActions action)
    {
        action = name switch
        {
            "pull" => RuleActions.Pull,
            "push" => RuleActions.Push,
            "delete" => RuleActions.Delete,
            "catalog" => RuleActions.Catalog,
            "*" => Repository | RuleActions.Catalog,
            _ => RuleActions.None,
        };
        return action != RuleActions.None;
    }

    /// <summary>The actions a token request asks for; names this registry does not know ask for nothing.</summary>
    public static RuleActions Requested(IReadOnlyCollection<string> requested)
    {
        var mask = RuleActions.None;
        foreach (string name in requested)
        {
            mask |= name switch
            {
                "pull" => RuleActions.Pull,
                "push" => RuleActions.Push,
                "delete" => RuleActions.Delete,
                "catalog" => RuleActions.Catalog,
                "*" => RuleActions.Wildcard,
                _ => RuleActions.None,
            };
        }
        return mask;
    }

    /// <summary>Of <paramref name="requested"/>, what <paramref name="allowed"/> (a rule's actions) grants, as a shared read-only set.</summary>
    public static IReadOnlySet<string> Grant(RuleActions requested, RuleActions allowed)
    {
        RuleActions granted = requested & allowed & ~RuleActions.Wildcard;
        if ((requested & RuleActions.Wildcard) != 0 && (allowed & Repository) == Repository) { granted |= RuleActions.Wildcard; }
        return Sets[(int)granted];
    }

    public static IReadOnlySet<string> Nothing => Sets[0];

    private static IEnumerable<string> Names(RuleActions mask)
    {
        if ((mask & RuleActions.Pull) != 0) { yield return "pull"; }
        if ((mask & RuleActions.Push) != 0) { yield return "push"; }
        if ((mask & RuleActions.Delete) != 0) { yield return "delete"; }
        if ((mask & RuleActions.Catalog) != 0) { yield return "catalog"; }
        if ((mask & RuleActions.Wildcard) != 0) { yield return "*"; }
    }
}
