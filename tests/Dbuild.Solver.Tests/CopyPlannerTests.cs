namespace Dbuild.Solver.Tests;

public sealed class CopyPlannerTests
{
    [Theory]
    [InlineData("755", 0b111_101_101)]
    [InlineData("0640", 0b110_100_000)]
    [InlineData("u+x", 0b111_100_100)] // applied to 0644
    [InlineData("go-r", 0b110_000_000)]
    [InlineData("a=rx", 0b101_101_101)]
    [InlineData("go+X", 0b110_100_100)] // X: no execute bit to follow on a 0644 file
    public void ParseChmod_OctalAndSymbolic(string value, int expected) =>
        Assert.Equal((UnixFileMode)expected, CopyPlanner.ParseChmod(value));

    [Theory]
    [InlineData("*.txt", "a.txt", true)]
    [InlineData("*.txt", "d/a.txt", false)] // * stays within one segment
    [InlineData("d/*", "d/a.txt", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("[a-c]x", "bx", true)]
    [InlineData("[!a]x", "ax", false)]
    public void CopyGlob_Match(string pattern, string path, bool expected) => Assert.Equal(expected, CopyGlob.Match(pattern, path));

    [Theory]
    [InlineData("/app/./src/../x", "app/x")]
    [InlineData("../../etc", "etc")] // cannot climb above the root
    [InlineData("a//b/", "a/b")]
    public void Clean_NormalisesPaths(string path, string expected) => Assert.Equal(expected, CopyPlanner.Clean(path));
}
