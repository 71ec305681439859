using System.Globalization;
using System.Text.RegularExpressions;

namespace Dbuild.Testing;

/// <summary>Reads the samples of a Prometheus text scrape by their series text (<c>name{labels}</c>), for assertions.</summary>
public static partial class PrometheusSamples
{
    [GeneratedRegex(@"^(?<series>[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex SampleLine();

    public static Dictionary<string, double> Parse(string scrape) => SampleLine().Matches(scrape)
        .ToDictionary(m => m.Groups["series"].Value, m => m.Groups["value"].Value == "+Inf"
            ? double.PositiveInfinity : double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    /// <summary>A sample's value, or 0 when the series is absent (a counter not yet incremented).</summary>
    public static double ValueOrZero(this Dictionary<string, double> samples, string series) =>
        (samples ?? throw new ArgumentNullException(nameof(samples))).GetValueOrDefault(series);
}
