using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Tests;

/// <summary>Prune flags parsed with docker's syntax: Go durations, go-units sizes, <c>--filter key=value</c>.</summary>
public sealed class CachePruneOptionsTests
{
    [Theory]
    [InlineData("24h", 24 * 3600.0)]
    [InlineData("2h30m", 9000.0)]
    [InlineData("1.5h", 5400.0)]
    [InlineData("90s", 90.0)]
    [InlineData("0", 0.0)]
    public void WithFilter_UntilDuration_ParsesGoSyntax(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), new CachePruneOptions().WithFilter("until=" + text).Until);

    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("10GB", 10L * 1024 * 1024 * 1024)] // go-units RAMInBytes: binary whatever the suffix
    [InlineData("10g", 10L * 1024 * 1024 * 1024)]
    [InlineData("512MiB", 512L * 1024 * 1024)]
    [InlineData("1.5k", 1536L)]
    [InlineData("2 MB", 2L * 1024 * 1024)]
    public void ByteSize_Valid_Parses(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out long parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("-1GB")]  // negative
    [InlineData("10XB")]  // unknown unit
    [InlineData("GB")]    // no number
    [InlineData("10%")]   // a share is only for the GC config
    public void ByteSize_Invalid_Fails(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Fact]
    public void WithFilter_Until_SetsDuration()
    {
        CachePruneOptions options = new CachePruneOptions().WithFilter("until=24h");
        Assert.Equal(TimeSpan.FromHours(24), options.Until);
    }

    [Fact]
    public void WithFilter_UnusedFor_IsUntil() =>
        Assert.Equal(TimeSpan.FromMinutes(90), new CachePruneOptions().WithFilter("unused-for=1h30m").Until);

    [Fact]
    public void WithFilter_Type_AddsRecordType() =>
        Assert.Equal(["exec.cachemount"], new CachePruneOptions().WithFilter("type=exec.cachemount").Types);

    [Theory]
    [InlineData("until=24")]       // no unit
    [InlineData("until=1d")]       // Go has no days
    [InlineData("until=")]         // empty
    [InlineData("until=-1h")]      // negative
    [InlineData("type=layers")]    // not a record type
    [InlineData("label=x")]        // unknown key
    [InlineData("dangling=true")]  // unknown key
    public void WithFilter_Invalid_Throws(string filter) => Assert.Throws<FormatException>(() => new CachePruneOptions().WithFilter(filter));

    [Fact]
    public void WithFilter_UntilTwice_Throws() =>
        Assert.Throws<FormatException>(() => new CachePruneOptions().WithFilter("until=1h").WithFilter("until=2h"));
}
