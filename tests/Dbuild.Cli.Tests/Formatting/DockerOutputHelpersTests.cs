using Dbuild.Cli.Commands;
using Dbuild.Cli.Formatting;

namespace Dbuild.Cli.Tests.Formatting;

/// <summary>Go's tabwriter, path.Match and go-units' three-digit sizes, as docker's images/history output uses them.</summary>
public sealed class DockerOutputHelpersTests
{
    [Fact]
    public void TabWriter_ColumnsAtLeastTenWidePaddedByThree() =>
        Assert.Equal("IMAGE ID       TAG       SIZE\n858cfcca66d6   latest    1.98MB\n", GoTabWriter.Docker("IMAGE ID\tTAG\tSIZE\n858cfcca66d6\tlatest\t1.98MB\n"));

    [Fact]
    public void TabWriter_ColumnBlocksEndWhereALineHasFewerCells() =>
        Assert.Equal("a             b\nlonger-cell   c\nno tabs here\nx         y\n", GoTabWriter.Docker("a\tb\nlonger-cell\tc\nno tabs here\nx\ty\n"));

    [Theory]
    [InlineData("busybox", "busybox", true)]
    [InlineData("busy*", "busybox", true)]
    [InlineData("*", "a/b", false)]
    [InlineData("*/b", "a/b", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("[a-c]x", "bx", true)]
    [InlineData("[^a-c]x", "bx", false)]
    [InlineData("a\\*", "a*", true)]
    public void PathMatch_AsGo(string pattern, string name, bool expected) => Assert.Equal(expected, GoPathMatch.IsMatch(pattern, name));

    [Theory]
    [InlineData("[")]
    [InlineData("[]")]
    [InlineData("a\\")]
    [InlineData("[z-a]")]
    public void PathMatch_BadPattern_SyntaxError(string pattern) =>
        Assert.Equal("syntax error in pattern", Assert.Throws<FormatException>(() => GoPathMatch.IsMatch(pattern, "x")).Message);

    [Theory]
    [InlineData(0L, "0B")]
    [InlineData(4L, "4B")]
    [InlineData(1_984_290L, "1.98MB")]
    [InlineData(72_800_000L, "72.8MB")]
    [InlineData(999_700L, "1e+03kB")]
    [InlineData(1_200L, "1.2kB")]
    public void SizeThreeDigits_GoUnitsHumanSizeWithPrecision3(long bytes, string expected) => Assert.Equal(expected, HumanUnits.SizeThreeDigits(bytes));
}
