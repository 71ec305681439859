using Dbuild.Cli.Commands;

namespace Dbuild.Cli.Tests;

/// <summary>Sizes, durations and tables printed as docker and buildx print them.</summary>
public sealed class HumanUnitsTests
{
    [Theory]
    [InlineData(0L, "0B")]
    [InlineData(109L, "109B")]
    [InlineData(1_984_000L, "1.984MB")]
    [InlineData(8_100_000L, "8.1MB")]
    [InlineData(999_950L, "1000kB")] // go-units rounds within the unit
    [InlineData(2_000_000_000L, "2GB")]
    public void Size_GoUnitsHumanSize(long bytes, string expected) => Assert.Equal(expected, HumanUnits.Size(bytes));

    [Theory]
    [InlineData(0.5, "Less than a second")]
    [InlineData(1, "1 second")]
    [InlineData(45, "45 seconds")]
    [InlineData(90, "About a minute")]
    [InlineData(600, "10 minutes")]
    [InlineData(3600, "About an hour")]
    [InlineData(5 * 3600, "5 hours")]
    [InlineData(3 * 86400, "3 days")]
    [InlineData(21 * 86400, "3 weeks")]
    [InlineData(90 * 86400, "3 months")]
    [InlineData(800 * 86400, "2 years")]
    public void Duration_GoUnitsHumanDuration(double seconds, string expected) => Assert.Equal(expected, HumanUnits.Duration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Spaces_DockerColumns_AtLeastTenWidePaddedByThree() =>
        Assert.Equal("TYPE           TOTAL\nCache Mounts   1\n", TextTable.Spaces([["TYPE", "TOTAL"], ["Cache Mounts", "1"]]));

    [Fact]
    public void Tabs_BuildxColumns_TabsToMultiplesOfEight() =>
        Assert.Equal("Total:\t1.5kB\n", TextTable.Tabs([["Total:", "1.5kB"]]));

    [Fact]
    public void Parse_KeepStorageNotASize_IsUsageError() =>
        Assert.Throws<FormatException>(() => BuilderCommand.Parse(all: false, [], "lots"));

    [Fact]
    public void Parse_FlagsTogether_OneOptions()
    {
        Solver.Cache.CachePruneOptions options = BuilderCommand.Parse(all: true, ["until=24h", "type=exec.cachemount"], "10GB");
        Assert.Equal((true, TimeSpan.FromHours(24), 10L << 30), (options.All, options.Until!.Value, options.KeepStorage!.Value));
        Assert.Equal(["exec.cachemount"], options.Types);
    }
}
