using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Tests;

public sealed class CacheKeyTests
{
    [Fact]
    public void Build_SameComponents_SameKey()
    {
        var a = new CacheKeyBuilder().Add("parent", "p").Add("command", "echo hi").Build();
        var b = new CacheKeyBuilder().Add("parent", "p").Add("command", "echo hi").Build();

        Assert.Equal(a, b);
    }

    [Fact]
    public void Build_ShiftedBoundary_DifferentKey()
    {
        // length prefixes keep ("ab","c") and ("a","bc") apart
        var a = new CacheKeyBuilder().Add("ab", "c").Build();
        var b = new CacheKeyBuilder().Add("a", "bc").Build();

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Explain_FileChanged_NamesTheFile()
    {
        KeyComponent[] before = [new("parent", "1"), new("file src/app.cs", "h1"), new("file src/b.cs", "h2")];
        KeyComponent[] now = [new("parent", "1"), new("file src/app.cs", "h9"), new("file src/b.cs", "h2")];

        Assert.Equal("src/app.cs changed", MissReason.Explain(before, now));
    }

    [Fact]
    public void Explain_BuildArgChanged_NamesTheArg()
    {
        KeyComponent[] before = [new("parent", "1"), new("build-arg VERSION", "1")];
        KeyComponent[] now = [new("parent", "1"), new("build-arg VERSION", "2")];

        Assert.Equal("build-arg VERSION changed", MissReason.Explain(before, now));
    }

    [Fact]
    public void Explain_OnlyParentChanged_SaysPreviousStep()
    {
        Assert.Equal("previous step changed", MissReason.Explain([new("parent", "1")], [new("parent", "2")]));
    }

    [Fact]
    public void Explain_FileAddedAndRemoved_SaysBoth()
    {
        KeyComponent[] before = [new("file a", "1")];
        KeyComponent[] now = [new("file b", "1")];

        Assert.Equal("b added, a removed", MissReason.Explain(before, now));
    }

    [Fact]
    public void Explain_NoHistory_SaysFirstBuild()
    {
        Assert.Equal("no earlier build of this step", MissReason.Explain(null, [new("parent", "1")]));
    }
}
