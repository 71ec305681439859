using System.Collections.Frozen;

namespace Dbuild.Registry.Auth.Rules;

/// <summary>Who a rule is for: <c>"*"</c> anyone (anonymous too), <c>"+"</c> any signed-in account, <c>group:NAME</c>, or one user.</summary>
internal sealed class RuleAccount
{
    private readonly string? _user;
    private readonly FrozenSet<string>? _members;
    private readonly bool _anonymousToo;

    private RuleAccount(string text, string? user, FrozenSet<string>? members, bool anonymousToo) =>
        (Text, _user, _members, _anonymousToo) = (text, user, members, anonymousToo);

    /// <summary>The account as written in the file.</summary>
    public string Text { get; }

    public static RuleAccount Anyone { get; } = new("*", null, null, anonymousToo: true);

    public static RuleAccount SignedIn { get; } = new("+", null, null, anonymousToo: false);

    public static RuleAccount User(string name) => new(name, name, null, anonymousToo: false);

    public static RuleAccount Group(string name, IEnumerable<string> members) =>
        new($"group:{name}", null, members.ToFrozenSet(StringComparer.Ordinal), anonymousToo: false);

    /// <summary>Whether the rule is for <paramref name="account"/> (null: an anonymous client).</summary>
    public bool Matches(string? account)
    {
        if (account is null) { return _anonymousToo; }
        if (_user is not null) { return string.Equals(_user, account, StringComparison.Ordinal); }
        return _members?.Contains(account) ?? true;
    }

    public override string ToString() => Text;
}
