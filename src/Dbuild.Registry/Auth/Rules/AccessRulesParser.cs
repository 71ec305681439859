using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dbuild.Registry.Auth.Rules;

/// <summary>
/// Reads the rules file: a mapping with <c>groups</c> (optional: name → list of users) and <c>rules</c> (an ordered
/// list), or a bare list of rules. A rule is <c>account</c>, <c>name</c> and <c>actions</c>. Anything the file does
/// not say exactly right is an <see cref="AccessRulesSyntaxException"/> naming its line and column.
/// </summary>
internal static class AccessRulesParser
{
    private const string GroupPrefix = "group:";

    public static AccessRuleSet Parse(string path, string text)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException ex) { throw new AccessRulesSyntaxException(path, ex.Start.Line, ex.Start.Column, $"not valid YAML: {YamlProblem(ex)}"); }
        if (stream.Documents.Count == 0) { return new AccessRuleSet([]); } // an empty file allows nothing, like 'rules: []'
        if (stream.Documents.Count > 1) { throw Error(path, stream.Documents[1].RootNode, "one YAML document only"); }
        YamlNode root = stream.Documents[0].RootNode;
        YamlSequenceNode? ruleNodes = root as YamlSequenceNode;
        var groups = new Dictionary<string, RuleAccount>(StringComparer.Ordinal);
        if (root is YamlMappingNode mapping)
        {
            foreach ((YamlNode key, YamlNode value) in mapping.Children)
            {
                switch (KeyName(path, key))
                {
                    case "groups": ReadGroups(path, value, groups); break;
                    case "rules": ruleNodes = value as YamlSequenceNode ?? throw Error(path, value, "'rules' is a list of rules"); break;
                    case var other: throw Error(path, key, $"unknown key '{other}' (the file has 'groups' and 'rules')");
                }
            }
            if (ruleNodes is null) { throw Error(path, root, "no 'rules:' list"); }
        }
        if (ruleNodes is null) { throw Error(path, root, "expected 'rules:' (and optionally 'groups:') or a list of rules"); }
        var rules = new List<AccessRule>(ruleNodes.Children.Count);
        foreach (YamlNode node in ruleNodes.Children) { rules.Add(ReadRule(path, node, groups)); }
        return new AccessRuleSet(rules);
    }

    private static void ReadGroups(string path, YamlNode node, Dictionary<string, RuleAccount> groups)
    {
        if (node is not YamlMappingNode mapping) { throw Error(path, node, "'groups' maps each group name to a list of users"); }
        foreach ((YamlNode key, YamlNode value) in mapping.Children)
        {
            string name = KeyName(path, key);
            if (name.Length == 0 || name.Any(char.IsWhiteSpace)) { throw Error(path, key, $"'{name}' is not a group name"); }
            if (value is not YamlSequenceNode members) { throw Error(path, value, $"group '{name}' is a list of users, e.g. [alice, bob]"); }
            var users = new List<string>(members.Children.Count);
            foreach (YamlNode member in members.Children)
            {
                string user = Scalar(path, member, $"a member of group '{name}'");
                if (user.StartsWith(GroupPrefix, StringComparison.Ordinal)) { throw Error(path, member, "a group lists users, not other groups"); }
                users.Add(CheckUser(path, member, user));
            }
            groups[name] = RuleAccount.Group(name, users);
        }
    }

    private static AccessRule ReadRule(string path, YamlNode node, Dictionary<string, RuleAccount> groups)
    {
        if (node is not YamlMappingNode mapping) { throw Error(path, node, "a rule is a mapping with account, name and actions"); }
        RuleAccount? account = null;
        RepositoryGlob? name = null;
        RuleActions? actions = null;
        foreach ((YamlNode key, YamlNode value) in mapping.Children)
        {
            switch (KeyName(path, key))
            {
                case "account": account = ReadAccount(path, value, groups); break;
                case "name":
                    string pattern = Scalar(path, value, "'name'");
                    if (!RepositoryGlob.TryCompile(pattern, out name, out string error)) { throw Error(path, value, error); }
                    break;
                case "actions": actions = ReadActions(path, value); break;
                case var other: throw Error(path, key, $"unknown key '{other}' in a rule (account, name, actions)");
            }
        }
        if (account is null) { throw Error(path, node, "the rule has no 'account' (a user, group:NAME, \"*\" or \"+\")"); }
        if (actions is null) { throw Error(path, node, "the rule has no 'actions' (a list; [] refuses everything)"); }
        if (name is null && (actions.Value & RuleActionNames.Repository) != 0)
        {
            throw Error(path, node, "the rule has no 'name' (a repository pattern such as 'team/**'); only a catalog-only rule may leave it out");
        }
        return new AccessRule(account, name, actions.Value, checked((int)node.Start.Line));
    }

    private static RuleAccount ReadAccount(string path, YamlNode node, Dictionary<string, RuleAccount> groups)
    {
        string text = Scalar(path, node, "'account'");
        if (text == "*") { return RuleAccount.Anyone; }
        if (text == "+") { return RuleAccount.SignedIn; }
        if (text.StartsWith(GroupPrefix, StringComparison.Ordinal))
        {
            string group = text[GroupPrefix.Length..];
            return groups.GetValueOrDefault(group) ?? throw Error(path, node, $"unknown group '{group}' (define it under 'groups:')");
        }
        return RuleAccount.User(CheckUser(path, node, text));
    }

    private static string CheckUser(string path, YamlNode node, string user) =>
        user.Length == 0 || user.Contains(':', StringComparison.Ordinal) || user.Any(char.IsWhiteSpace)
            ? throw Error(path, node, $"'{user}' is not a user name (an htpasswd user; \"*\" is anyone, \"+\" any signed-in account)")
            : user;

    private static RuleActions ReadActions(string path, YamlNode node)
    {
        if (node is not YamlSequenceNode list) { throw Error(path, node, "'actions' is a list, e.g. [pull, push]"); }
        var actions = RuleActions.None;
        foreach (YamlNode item in list.Children)
        {
            string name = Scalar(path, item, "an action");
            if (!RuleActionNames.TryParse(name, out RuleActions action)) { throw Error(path, item, $"unknown action '{name}' ({RuleActionNames.Known})"); }
            actions |= action;
        }
        return actions;
    }

    private static string KeyName(string path, YamlNode key) => Scalar(path, key, "a key");

    private static string Scalar(string path, YamlNode node, string what) =>
        node is YamlScalarNode { Value: { } value } ? value : throw Error(path, node, $"{what} must be a single value, not a list or mapping");

    private static AccessRulesSyntaxException Error(string path, YamlNode node, string problem) =>
        new(path, node.Start.Line, node.Start.Column, problem);

    // YamlDotNet prefixes its message with the positions, which the line already names.
    private static string YamlProblem(YamlException ex)
    {
        string message = ex.Message;
        int end = message.IndexOf("): ", StringComparison.Ordinal);
        message = message.StartsWith("(Line:", StringComparison.Ordinal) && end >= 0 ? message[(end + 3)..] : message;
        message = message.Replace('\n', ' ').Replace('\r', ' ');
        return message.Contains("alias", StringComparison.Ordinal) ? $"{message} (write \"*\" in quotes: a bare * starts a YAML alias)" : message;
    }
}
