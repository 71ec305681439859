using Dbuild.Registry.Configuration;
using Dbuild.Registry.Policies;

namespace Dbuild.Registry.Tests.Policies;

/// <summary>The <c>policies.*</c> keys: forms, sizes, ages, and errors that name the key and the entry's index.</summary>
public sealed class PolicyConfigTests
{
    [Fact]
    public void Immutable_ShortAndLongForms()
    {
        RegistryOptions options = PolicyYaml.Load("""
            policies:
              immutable:
                - releases/**
                - repository: prod/**
                  tags: v*
                - repository: "*/app"
                  tags: ["^[0-9]+\\.[0-9]+$", stable]
            """);
        List<ImmutableTagRule> rules = options.Policies.Immutable;
        Assert.Equal(3, rules.Count);
        Assert.True(rules[0].Covers("releases/x", "anything"));
        Assert.False(rules[0].Covers("releases", "anything")); // trailing ** is one or more components, as in the rules file
        Assert.True(rules[1].Covers("prod/api", "v1.2"));
        Assert.False(rules[1].Covers("prod/api", "latest"));
        Assert.False(rules[1].Covers("dev/api", "v1"));
        Assert.True(rules[2].Covers("team/app", "1.12"));
        Assert.True(rules[2].Covers("team/app", "stable"));
        Assert.False(rules[2].Covers("team/app", "1.12-rc"));
        Assert.Equal("policies.immutable[1] (repository prod/**, tags v*)", rules[1].Describe());
    }

    [Fact]
    public void Retention_And_Quota_Values()
    {
        RegistryOptions options = PolicyYaml.Load("""
            policies:
              retention:
                - {repository: "ci/**", keeplast: 5, keep: ["release-*"], maxage: 30d}
                - {repository: nightly, maxage: 72h}
              quota:
                - {repository: "team-*/**", size: 10GiB}
                - {repository: small, size: 1.5MB}
                - {repository: tiny, size: 4096}
            """);
        RetentionRule ci = options.Policies.Retention[0];
        Assert.Equal((5, TimeSpan.FromDays(30)), (ci.KeepLast, ci.MaxAge));
        Assert.True(ci.Keep.Single().IsMatch("release-3"));
        Assert.Equal((null, TimeSpan.FromHours(72)), (options.Policies.Retention[1].KeepLast, options.Policies.Retention[1].MaxAge));
        Assert.Equal([10L << 30, 1_500_000, 4096], options.Policies.Quota.Select(q => q.Size));
        Assert.True(options.Policies.Quota[0].Repository.IsMatch("team-a/x/y", null));
    }

    [Fact]
    public void EnvironmentVariable_ReplacesTheList()
    {
        RegistryOptions options = PolicyYaml.Load("policies:\n  quota:\n    - {repository: a, size: 1KiB}\n",
            new Dictionary<string, string> { ["REGISTRY_POLICIES_QUOTA"] = "[{repository: b, size: 2KiB}]" });
        QuotaRule rule = Assert.Single(options.Policies.Quota);
        Assert.Equal(("b", 2048L), (rule.Repository.Text, rule.Size));
    }

    [Fact]
    public void RetentionRule_KeepsWhatAnyConditionKeeps()
    {
        RetentionRule rule = PolicyYaml.Load("policies:\n  retention:\n    - {repository: a, keeplast: 2, keep: [pin-*], maxage: 7d}\n").Policies.Retention[0];
        Assert.True(RetentionPass.Keeps(rule, 1, "old", TimeSpan.FromDays(100)));   // among the newest 2
        Assert.True(RetentionPass.Keeps(rule, 5, "pin-1", TimeSpan.FromDays(100))); // matches keep
        Assert.True(RetentionPass.Keeps(rule, 5, "new", TimeSpan.FromDays(1)));     // younger than maxage
        Assert.False(RetentionPass.Keeps(rule, 2, "old", TimeSpan.FromDays(8)));
    }

    [Theory]
    [InlineData("policies:\n  immutable: prod/**\n", "policies.immutable", "expected a list")]
    [InlineData("policies:\n  immutable:\n    - ok/**\n    - Prod/**\n", "policies.immutable[1].repository", "lower case")]
    [InlineData("policies:\n  immutable:\n    - {repository: a, tag: v*}\n", "policies.immutable[0].tag", "unknown key")]
    [InlineData("policies:\n  immutable:\n    - {repository: a, tags: \"^v(\"}\n", "policies.immutable[0].tags", "regular expression")]
    [InlineData("policies:\n  immutable:\n    - \"${account}/**\"\n", "policies.immutable[0].repository", "${account}")]
    [InlineData("policies:\n  retention:\n    - {repository: a, keep: [x]}\n", "policies.retention[0]", "keeplast or maxage")]
    [InlineData("policies:\n  retention:\n    - {repository: a, keeplast: -1}\n", "policies.retention[0].keeplast", "whole number")]
    [InlineData("policies:\n  retention:\n    - {repository: a, maxage: 3 days}\n", "policies.retention[0].maxage", "30d")]
    [InlineData("policies:\n  quota:\n    - {repository: a}\n", "policies.quota[0].size", "required")]
    [InlineData("policies:\n  quota:\n    - {repository: a, size: 10GB}\n    - {repository: b, size: 10 gigs}\n", "policies.quota[1].size", "10GiB")]
    [InlineData("policies:\n  quota:\n    - {size: 1GiB}\n", "policies.quota[0].repository", "required")]
    public void BadValues_NameTheKeyAndIndex(string yaml, string key, string message)
    {
        var error = Assert.Throws<RegistryConfigurationException>(() => PolicyYaml.Load(yaml));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
