using System.Globalization;
using System.Text;

namespace Dbuild.Registry.Observability;

/// <summary>
/// Builds one scrape in the Prometheus text exposition format 0.0.4: a <c># HELP</c> and <c># TYPE</c> line per metric,
/// then its samples. Label values are the registry's own fixed names, so they never need escaping.
/// </summary>
/// <remarks>https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format</remarks>
internal sealed class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
    private readonly StringBuilder _text = new(16 * 1024);

    public void Header(string name, string type, string help) =>
        _text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    public void Sample(string name, string labels, long value) => Start(name, labels).Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    public void Sample(string name, string labels, double value) => Start(name, labels).Append(Format(value)).Append('\n');

    /// <summary>A sample with one more label after <paramref name="labels"/> (a histogram's <c>le</c>).</summary>
    public void Sample(string name, string labels, string extraLabel, string extraValue, long value)
    {
        _text.Append(name).Append('{');
        if (labels.Length > 0) { _text.Append(labels).Append(','); }
        _text.Append(extraLabel).Append("=\"").Append(extraValue).Append("\"} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    public static string Format(double value) => double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    public override string ToString() => _text.ToString();

    private StringBuilder Start(string name, string labels)
    {
        _text.Append(name);
        if (labels.Length > 0) { _text.Append('{').Append(labels).Append('}'); }
        return _text.Append(' ');
    }
}
