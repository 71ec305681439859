using Dbuild.Cli.Rootless;
using Dbuild.Runtime;

namespace Dbuild.Cli.Tests;

/// <summary>Which verbs enter the rootless user namespace, and how /etc/subuid is read and its absence explained.</summary>
public sealed class RootlessEntryTests
{
    [Theory]
    [InlineData("build .", true)]
    [InlineData("--root /r build -t a:1 .", true)]
    [InlineData("builder prune -f", true)]
    [InlineData("system df -v", true)]
    [InlineData("info", true)]
    [InlineData("build --help", false)]
    [InlineData("builder", false)]
    [InlineData("images", false)]
    [InlineData("pull busybox", false)]
    [InlineData("registry serve", false)]
    public void NeedsNamespace_VerbsThatRunStepsOrTouchSnapshots(string commandLine, bool expected) =>
        Assert.Equal(expected, UserNamespaceEntry.NeedsNamespace(CommandTree.Create().Parse(commandLine.Split(' '), CommandTree.Parser)));

    [Fact]
    public void Parse_MatchesNameOrUid_InFileOrder()
    {
        const string text = "alice:100000:65536\n# comment\nbob:165536:65536\n1000:300000:1000\nbroken:line\nalice:400000:0\ncarol:x:5\n";

        Assert.Equal([new SubordinateRange(100000, 65536), new SubordinateRange(300000, 1000)], RootlessSetup.Parse(text, "alice", 1000));
        Assert.Equal([new SubordinateRange(165536, 65536)], RootlessSetup.Parse(text, "bob", 1001));
        Assert.Empty(RootlessSetup.Parse(text, "carol", 1002));
    }

    [Fact]
    public void MissingRangesAdvice_SuggestsABlockPastEveryRangeGivenOut()
    {
        Assert.Equal("rootless RUN steps need subordinate ids: add \"dave:231072:65536\" to /etc/subuid and /etc/subgid " +
            "(or: usermod --add-subuids 231072-296607 --add-subgids 231072-296607 dave)",
            RootlessSetup.MissingRangesAdvice("dave", hasUids: false, hasGids: false, "alice:100000:65536\nbob:165536:65536\n"));
        Assert.Equal("rootless RUN steps need subordinate ids: add \"dave:100000:65536\" to /etc/subgid (or: usermod --add-subgids 100000-165535 dave)",
            RootlessSetup.MissingRangesAdvice("dave", hasUids: true, hasGids: false, ""));
    }
}
