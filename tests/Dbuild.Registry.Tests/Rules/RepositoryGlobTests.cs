using Dbuild.Registry.Auth.Rules;

namespace Dbuild.Registry.Tests.Rules;

public sealed class RepositoryGlobTests
{
    private static RepositoryGlob Compile(string pattern) =>
        RepositoryGlob.TryCompile(pattern, out RepositoryGlob? glob, out string error) ? glob! : throw new Xunit.Sdk.XunitException(error);

    [Theory]
    [InlineData("alice/**", "alice/x", true)]
    [InlineData("alice/**", "alice/x/y", true)]
    [InlineData("alice/**", "alice", false)]          // ** at the end is one component or more
    [InlineData("alice/**", "alicex/y", false)]       // a component is matched whole
    [InlineData("alice/**", "bob/alice/x", false)]    // anchored at the start
    [InlineData("**", "a", true)]
    [InlineData("**", "a/b/c", true)]
    [InlineData("**/base", "base", true)]             // leading ** may be no component at all
    [InlineData("**/base", "team/x/base", true)]
    [InlineData("**/base", "team/x/base2", false)]
    [InlineData("a/**/b", "a/b", true)]
    [InlineData("a/**/b", "a/x/y/b", true)]
    [InlineData("a/**/b", "a/x/y/c", false)]
    [InlineData("team-*/**", "team-web/app", true)]
    [InlineData("team-*/**", "team-/app", true)]      // * may be empty
    [InlineData("team-*/**", "team-web", false)]
    [InlineData("team-*/**", "team/web/app", false)]  // * stays within one component
    [InlineData("team-*", "team-a/b", false)]
    [InlineData("*", "app", true)]
    [InlineData("*", "lib/app", false)]
    [InlineData("*/*", "lib/app", true)]
    [InlineData("*-*-x", "a-b-c-x", true)]            // the later star takes the rest
    [InlineData("*a*b", "xaxbxab", true)]
    [InlineData("*a*b", "xaxbxa", false)]
    [InlineData("library/busybox", "library/busybox", true)]
    [InlineData("library/busybox", "library/busybox2", false)]
    [InlineData("library/busybox", "library", false)]
    [InlineData("a/*", "a/", false)]                  // a trailing slash is no name
    public void IsMatch_Globs(string pattern, string repository, bool expected) =>
        Assert.Equal(expected, Compile(pattern).IsMatch(repository, "someone"));

    [Theory]
    [InlineData("${account}/**", "alice", "alice/app", true)]
    [InlineData("${account}/**", "alice", "alice/a/b", true)]
    [InlineData("${account}/**", "alice", "bob/app", false)]
    [InlineData("${account}/**", "alice", "alicex/app", false)]
    [InlineData("${account}/**", "ali", "alice/app", false)]
    [InlineData("home/${account}", "bob", "home/bob", true)]
    [InlineData("u-${account}-*/**", "bob", "u-bob-1/app", true)]
    [InlineData("u-${account}-*/**", "bob", "u-bobby-1/app", false)]
    [InlineData("${account}/**", "Alice", "alice/app", false)] // literal: names are lower case, accounts compare exactly
    public void IsMatch_AccountVariable_ExpandsToTheSignedInAccount(string pattern, string account, string repository, bool expected) =>
        Assert.Equal(expected, Compile(pattern).IsMatch(repository, account));

    [Fact]
    public void IsMatch_AccountVariable_NeverMatchesAnonymous()
    {
        RepositoryGlob glob = Compile("${account}/**");
        Assert.True(glob.UsesAccount);
        Assert.False(glob.IsMatch("alice/app", null));
        Assert.False(Compile("*${account}*/**").IsMatch("x/app", null));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("/alice", "empty path component")]      // leading slash
    [InlineData("alice/", "empty path component")]      // trailing slash
    [InlineData("a//b", "empty path component")]        // doubled slash
    [InlineData("alice**", "whole path component")]     // ** glued to a name
    [InlineData("a/***", "whole path component")]
    [InlineData("**/**", "no more than '**'")]
    [InlineData("Alice/**", "lower case")]
    [InlineData("a b", "' ' cannot occur")]
    [InlineData("app?", "'?' cannot occur")]            // no single-character wildcard
    [InlineData("[ab]/x", "'[' cannot occur")]          // no character classes
    [InlineData("${user}/**", "only variable is ${account}")]
    [InlineData("$/x", "only variable is ${account}")]
    public void TryCompile_BadPattern_SaysWhy(string pattern, string expected)
    {
        Assert.False(RepositoryGlob.TryCompile(pattern, out _, out string error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void IsMatch_ManyStarsAgainstALongName_StaysFast()
    {
        // A backtracking matcher is exponential here; the greedy walk is not.
        RepositoryGlob glob = Compile("*a*a*a*a*a*a*a*b");
        string name = new('a', 250);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(glob.IsMatch(name, null));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }
}
