using Dbuild.Oci;
using Dbuild.Solver.Store;

namespace Dbuild.Solver.Tests;

public sealed class ImagePruneFilterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static ImageConfig Config(params (string Key, string Value)[] labels) =>
        new ImageConfig(Platform.Parse("linux/amd64")) { Config = new ContainerConfig { Labels = labels.ToDictionary(l => l.Key, l => l.Value) } };

    [Theory]
    [InlineData("until=1h", -2, true)] // created two hours ago: before the cut
    [InlineData("until=1h", 0, false)] // created now: after it
    [InlineData("until=2026-12-02T11:30:00Z", -1, true)] // an RFC 3339 time
    [InlineData("until=1796209200", -2, true)] // a Unix timestamp (11:00): created at 10:00, before it
    [InlineData("until=1796209200", 0, false)] // created at 12:00, after it
    public void Until_ComparesCreation(string filter, int hoursAgo, bool matches) =>
        Assert.Equal(matches, new ImagePruneFilter().With(filter, Now).Matches(Config(), Now.AddHours(hoursAgo)));

    [Fact]
    public void Labels_KeyKeyValueAndNegation()
    {
        ImageConfig config = Config(("team", "a"), ("tier", "web"));
        Assert.True(new ImagePruneFilter().With("label=team", Now).Matches(config, Now));
        Assert.True(new ImagePruneFilter().With("label=team=a", Now).With("label=tier=web", Now).Matches(config, Now));
        Assert.False(new ImagePruneFilter().With("label=team=b", Now).Matches(config, Now));
        Assert.False(new ImagePruneFilter().With("label!=tier", Now).Matches(config, Now));
        Assert.True(new ImagePruneFilter().With("label!=tier=db", Now).Matches(config, Now));
    }

    [Theory]
    [InlineData("dangling=false", true)] // docker's daemon: as -a
    [InlineData("dangling=0", true)]
    [InlineData("dangling=true", false)]
    [InlineData("dangling=maybe", false)] // accepted, changes nothing
    public void Dangling_FalseMeansAll(string filter, bool all) => Assert.Equal(all, new ImagePruneFilter().With(filter, Now).AllImages);

    [Theory]
    [InlineData("reference=app", "Invalid filter 'reference'")] // images' filter, not image prune's
    [InlineData("until", "bad format of filter (expected name=value)")]
    [InlineData("until=soon", "failed to parse value as time or duration: \"soon\"")]
    public void BadFilter_DockersWords(string filter, string message) =>
        Assert.StartsWith(message, Assert.Throws<FormatException>(() => new ImagePruneFilter().With(filter, Now)).Message, StringComparison.Ordinal);
}
