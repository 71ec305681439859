namespace Dbuild.Cli.Tests;

public sealed class RegistryResilienceSettingsTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("45", 45_000)] // plain seconds
    [InlineData("0", 0)] // a timeout of 0 turns it off
    public void TryParseDuration_GoUnitsOrSeconds_Parsed(string value, double milliseconds)
    {
        Assert.True(RegistryResilienceSettings.TryParseDuration(value, out TimeSpan span));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), span);
    }

    [Theory]
    [InlineData("soon")] // not a number
    [InlineData("-1s")] // negative
    [InlineData("10d")] // no such unit
    [InlineData("25h")] // over a day
    [InlineData("")] // empty
    public void TryParseDuration_Bad_False(string value) =>
        Assert.False(RegistryResilienceSettings.TryParseDuration(value, out _));
}
