using Dbuild.Registry.Auth.Rules;

namespace Dbuild.Registry.Tests.Rules;

/// <summary>
/// Deciding with the commented example, registry-conf/registry-acl.yml: first match wins, groups, <c>${account}</c>,
/// <c>*</c> against <c>+</c>, an empty rule refusing, the catalog.
/// </summary>
public sealed class AccessRuleSetTests
{
    private static readonly string ExamplePath = Path.Combine(Dbuild.Testing.RepositoryPaths.Root, "registry-conf", "registry-acl.yml");
    private static readonly string[] PullPush = ["pull", "push"];
    private static readonly string[] All = ["pull", "push", "delete"];
    private readonly AccessRuleSet _rules = AccessRulesParser.Parse(ExamplePath, File.ReadAllText(ExamplePath));

    private string[] Grant(string? account, string repository, params string[] requested) =>
        [.. _rules.Grant(account, repository, requested).Order(StringComparer.Ordinal)];

    [Fact]
    public void Anonymous_PullsPublicOnly()
    {
        Assert.Equal(["pull"], Grant(null, "public/busybox", PullPush));
        Assert.Empty(Grant(null, "team-web/app", PullPush));
        Assert.Empty(Grant(null, "alice/app", "pull"));
    }

    [Fact]
    public void GroupMember_MayDoEverythingEverywhere()
    {
        Assert.Equal(["delete", "pull", "push"], Grant("bob", "team-web/app", All));
        Assert.Equal(["delete", "pull", "push"], Grant("alice", "public/busybox", All));
    }

    [Fact]
    public void SignedIn_OwnNamespaceOnly_ThroughAccountVariable()
    {
        Assert.Equal(["pull", "push"], Grant("carol", "carol/app", All)); // no delete: the rule does not give it
        Assert.Equal(["pull", "push"], Grant("carol", "carol/a/b", PullPush));
        Assert.Empty(Grant("carol", "dave/app", PullPush));
        Assert.Empty(Grant("carol", "carol", PullPush)); // ${account}/** is below the namespace, not the name itself
        Assert.Equal(["pull"], Grant("carol", "public/x", PullPush)); // "*" includes signed-in accounts
    }

    [Fact]
    public void FirstMatchWins_EvenWhenALaterRuleWouldGiveMore()
    {
        // ci-robot gets its team rule; its empty rule after that shuts it out of the rest,
        // public/ included, although the "*" rule below it would give pull.
        Assert.Equal(["pull", "push"], Grant("ci-robot", "team-web/app", PullPush));
        Assert.Empty(Grant("ci-robot", "public/busybox", "pull"));
        Assert.Empty(Grant("ci-robot", "other/app", "pull"));
        Assert.Equal(23, _rules.Deciding("ci-robot", "team-web/app")!.Line);
        Assert.Equal(27, _rules.Deciding("ci-robot", "other/app")!.Line);
    }

    [Fact]
    public void Grant_IsTheIntersectionWithTheRequest()
    {
        Assert.Equal(["pull"], Grant("carol", "carol/app", "pull"));
        Assert.Empty(Grant("carol", "carol/app", "delete"));
        Assert.Empty(Grant("carol", "carol/app"));
        Assert.Empty(Grant("carol", "carol/app", "frobnicate")); // an action this registry does not know is never granted
    }

    [Fact]
    public void Grant_WildcardRequest_OnlyWithEveryRepositoryAction()
    {
        Assert.Equal(["*"], Grant("alice", "x/y", "*"));
        Assert.Empty(Grant("carol", "carol/app", "*"));
    }

    [Fact]
    public void MayListCatalog_OnlyWhenARuleForTheAccountGivesIt()
    {
        Assert.True(_rules.MayListCatalog("alice"));
        Assert.True(_rules.MayListCatalog("carol")); // the catalog-only rule for "+"
        Assert.False(_rules.MayListCatalog(null));
    }

    [Fact]
    public void CatalogOnlyRule_TakesNoPartInRepositoryDecisions()
    {
        AccessRuleSet rules = AccessRulesParser.Parse("acl.yml", """
            - account: "+"
              actions: [catalog]
            - account: "+"
              name: "**"
              actions: [pull]
            """);
        Assert.True(rules.MayListCatalog("carol"));
        Assert.False(rules.MayListCatalog(null));
        Assert.Equal(["pull"], rules.Grant("carol", "any/thing", PullPush));
    }

    [Fact]
    public void StarAction_GivesEveryAction()
    {
        AccessRuleSet rules = AccessRulesParser.Parse("acl.yml", """
            - account: root
              name: "**"
              actions: ["*"]
            """);
        Assert.Equal(3, rules.Grant("root", "a", All).Count);
        Assert.True(rules.MayListCatalog("root"));
        Assert.Empty(rules.Grant("rooty", "a", All));
    }

    [Fact]
    public void NoRules_NothingIsAllowed()
    {
        AccessRuleSet rules = AccessRulesParser.Parse("acl.yml", "rules: []");
        Assert.Empty(rules.Grant("alice", "a", All));
        Assert.False(rules.MayListCatalog("alice"));
    }

    [Fact]
    public void GrantAndCatalog_AllocateAlmostNothingPerCall()
    {
        // The hot path of token issuance and catalog filtering: no regex, no set, no string per call.
        string[] pull = ["pull"];
        _ = Grant("carol", "carol/a/b", PullPush);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            _ = _rules.Grant("carol", "carol/tools/x", PullPush);
            _ = _rules.Grant("ci-robot", "team-web/app", pull);
            _ = _rules.Grant(null, "public/busybox", pull);
            _ = _rules.MayListCatalog("carol");
        }
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 3000;
        Assert.True(perCall <= 64, $"{perCall} bytes per Grant"); // at most the enumerator of the requested actions
    }

    [Fact]
    public void Grant_AnswersWithSharedSets()
    {
        // The hot path of token issuance: the same answer is the same (frozen) set, not a new one per call.
        Assert.Same(_rules.Grant("carol", "carol/a", PullPush), _rules.Grant("dave", "dave/b", PullPush));
    }
}
