namespace Dbuild.Solver.Tests;

public sealed class DockerIgnoreTests
{
    [Theory]
    [InlineData("*.log", "a.log", true)]
    [InlineData("*.log", "dir/a.log", false)] // * does not cross directories
    [InlineData("**/*.log", "dir/sub/a.log", true)]
    [InlineData("node_modules", "node_modules/x/y.js", true)] // a matched directory excludes what is below it
    [InlineData("/secret.txt", "secret.txt", true)]
    [InlineData("./build/", "build/out.o", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("[a-c]x", "bx", true)]
    public void IsExcluded_Pattern_Matches(string pattern, string path, bool excluded) =>
        Assert.Equal(excluded, new DockerIgnore([pattern]).IsExcluded(path));

    [Fact]
    public void IsExcluded_ExceptionAfterExclusion_Includes()
    {
        var ignore = new DockerIgnore(["*.md", "!README.md"]);

        Assert.True(ignore.IsExcluded("CHANGES.md"));
        Assert.False(ignore.IsExcluded("README.md"));
    }

    [Fact]
    public void IsExcluded_CommentsAndBlankLines_Ignored() =>
        Assert.False(new DockerIgnore(["# *.cs", "", "   "]).IsExcluded("a.cs"));
}
