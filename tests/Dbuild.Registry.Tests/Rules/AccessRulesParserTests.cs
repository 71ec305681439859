using Dbuild.Registry.Auth.Rules;

namespace Dbuild.Registry.Tests.Rules;

/// <summary>What the rules file accepts, and the one line <c>FILE:LINE:COL: what is wrong</c> for what it does not.</summary>
public sealed class AccessRulesParserTests
{
    private const string File = "/etc/dbuild/acl.yml";

    private static AccessRulesSyntaxException Refused(string yaml) =>
        Assert.Throws<AccessRulesSyntaxException>(() => AccessRulesParser.Parse(File, yaml));

    [Fact]
    public void Parse_BareList_IsAcceptedLikeRules()
    {
        AccessRuleSet rules = AccessRulesParser.Parse(File, """
            - account: alice
              name: alice/**
              actions: [pull]
            """);
        Assert.Equal(1, rules.Count);
        Assert.Equal(["pull"], rules.Grant("alice", "alice/x", ["pull", "push"]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nobody may do anything yet\n")]
    [InlineData("rules: []\n")]
    [InlineData("[]\n")]
    public void Parse_NoRules_AllowsNothing(string yaml)
    {
        AccessRuleSet rules = AccessRulesParser.Parse(File, yaml);
        Assert.Equal(0, rules.Count);
        Assert.Empty(rules.Grant("alice", "alice/x", ["pull"]));
        Assert.False(rules.MayListCatalog("alice"));
    }

    [Fact]
    public void Parse_GroupsAfterRules_AreStillKnown()
    {
        AccessRuleSet rules = AccessRulesParser.Parse(File, """
            rules:
              - {account: "group:ops", name: "**", actions: [pull]}
            groups:
              ops: [carol]
            """);
        Assert.Equal(["pull"], rules.Grant("carol", "a", ["pull"]));
        Assert.Empty(rules.Grant("dave", "a", ["pull"]));
    }

    [Theory]
    // Each row: the file, the expected line:col and a part of the message.
    [InlineData("rules:\n  - account: alice\n    name: a/**\n    actions: [pull, pul]\n", "4:21", "unknown action 'pul'")]
    [InlineData("rules:\n  - account: alice\n    nam: a/**\n    actions: [pull]\n", "3:5", "unknown key 'nam' in a rule")]
    [InlineData("rule:\n  - account: alice\n", "1:1", "unknown key 'rule' (the file has 'groups' and 'rules')")]
    [InlineData("rules:\n  - name: a/**\n    actions: [pull]\n", "2:5", "no 'account'")]
    [InlineData("rules:\n  - account: alice\n    name: a/**\n", "2:5", "no 'actions'")]
    [InlineData("rules:\n  - account: alice\n    actions: [pull]\n", "2:5", "no 'name'")]
    [InlineData("rules:\n  - account: alice\n    name: a/**\n    actions: pull\n", "4:14", "'actions' is a list")]
    [InlineData("rules:\n  - account: alice\n    name: Team/**\n    actions: [pull]\n", "3:11", "'Team/**': repository names are lower case")]
    [InlineData("rules:\n  - account: alice\n    name: team**\n    actions: [pull]\n", "3:11", "whole path component")]
    [InlineData("rules:\n  - account: \"group:ops\"\n    name: a\n    actions: [pull]\n", "2:14", "unknown group 'ops'")]
    [InlineData("groups:\n  ops: [alice, \"group:x\"]\nrules: []\n", "2:16", "a group lists users, not other groups")]
    [InlineData("groups:\n  ops: alice\nrules: []\n", "2:8", "group 'ops' is a list of users")]
    [InlineData("rules:\n  - account: [alice]\n    name: a\n    actions: [pull]\n", "2:14", "'account' must be a single value")]
    [InlineData("rules:\n  - account: \"al ice\"\n    name: a\n    actions: [pull]\n", "2:14", "is not a user name")]
    [InlineData("rules:\n  - pull\n", "2:5", "a rule is a mapping")]
    [InlineData("groups: {}\n", "1:1", "no 'rules:' list")]
    [InlineData("just text\n", "1:1", "expected 'rules:'")]
    [InlineData("rules: [\n", "2:1", "not valid YAML")]                               // unclosed flow sequence
    [InlineData("rules:\n  - account: *\n    name: a\n", "2:14", "write \"*\" in quotes")]  // an unquoted * is a YAML alias
    [InlineData("rules:\n- account: a\n  account: b\n  name: a\n  actions: []\n", "3:3", "not valid YAML")] // duplicate key
    public void Parse_Malformed_NamesFileLineAndColumn(string yaml, string place, string problem)
    {
        AccessRulesSyntaxException ex = Refused(yaml);
        Assert.StartsWith($"{File}:{place}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
