using System.Globalization;
using Dbuild.Registry.Auth.Rules;
using Dbuild.Registry.Configuration;
using YamlDotNet.RepresentationModel;

namespace Dbuild.Registry.Policies;

/// <summary>
/// Reads <c>policies.immutable</c>, <c>policies.retention</c> and <c>policies.quota</c> into <see cref="PolicySettings"/>.
/// Repository patterns are the rules file's globs (<see cref="RepositoryGlob"/>); errors name the key and the entry's
/// index (<c>policies.quota[1].size</c>).
/// </summary>
internal static class PolicyConfigReader
{
    private static readonly string[] ImmutableKeys = ["repository", "tags"];
    private static readonly string[] RetentionKeys = ["repository", "keeplast", "keep", "maxage"];
    private static readonly string[] QuotaKeys = ["repository", "size"];

    /// <summary>Adds the policy keys to the loader's table.</summary>
    public static Dictionary<string, Action<RegistryOptions, string, YamlNode>> AddSetters(Dictionary<string, Action<RegistryOptions, string, YamlNode>> setters)
    {
        setters["policies.immutable"] = (o, key, node) => Replace(o.Policies.Immutable, Entries(key, node, ImmutableKeys, Immutable));
        setters["policies.retention"] = (o, key, node) => Replace(o.Policies.Retention, Entries(key, node, RetentionKeys, Retention));
        setters["policies.quota"] = (o, key, node) => Replace(o.Policies.Quota, Entries(key, node, QuotaKeys, Quota));
        return setters;
    }

    private static void Replace<T>(List<T> target, List<T> rules)
    {
        target.Clear();
        target.AddRange(rules);
    }

    private static List<T> Entries<T>(string key, YamlNode node, string[] allowed, Func<string, YamlNode, Dictionary<string, YamlNode>, T> read)
    {
        if (node is not YamlSequenceNode sequence) { throw new RegistryConfigurationException(key, $"expected a list of {{{string.Join(", ", allowed)}}}"); }
        var rules = new List<T>();
        int index = 0;
        foreach (YamlNode item in sequence.Children)
        {
            string entryKey = $"{key}[{index++}]";
            var values = new Dictionary<string, YamlNode>(StringComparer.OrdinalIgnoreCase);
            if (item is YamlScalarNode) { values["repository"] = item; } // the short form: just a repository pattern
            else if (item is YamlMappingNode mapping)
            {
                foreach ((YamlNode k, YamlNode v) in mapping.Children)
                {
                    string name = (k as YamlScalarNode)?.Value ?? "";
                    if (!allowed.Contains(name, StringComparer.OrdinalIgnoreCase))
                    {
                        throw new RegistryConfigurationException($"{entryKey}.{name}", $"unknown key ({string.Join(", ", allowed)})");
                    }
                    values[name] = v;
                }
            }
            else { throw new RegistryConfigurationException(entryKey, "expected a repository pattern or a map"); }
            rules.Add(read(entryKey, item, values));
        }
        return rules;
    }

    private static ImmutableTagRule Immutable(string key, YamlNode item, Dictionary<string, YamlNode> values) =>
        new(key, Repository(key, values), Patterns($"{key}.tags", values.GetValueOrDefault("tags")));

    private static RetentionRule Retention(string key, YamlNode item, Dictionary<string, YamlNode> values)
    {
        int? keepLast = null;
        if (values.TryGetValue("keeplast", out YamlNode? last))
        {
            string text = RegistryConfigLoader.Scalar($"{key}.keeplast", last);
            keepLast = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                ? n : throw new RegistryConfigurationException($"{key}.keeplast", $"'{text}' is not a non-negative whole number");
        }
        TimeSpan? maxAge = values.TryGetValue("maxage", out YamlNode? age) ? Age($"{key}.maxage", age) : null;
        if (keepLast is null && maxAge is null)
        {
            throw new RegistryConfigurationException(key, "needs keeplast or maxage (otherwise it would remove every tag the keep patterns miss)");
        }
        return new RetentionRule(key, Repository(key, values), keepLast, Patterns($"{key}.keep", values.GetValueOrDefault("keep")), maxAge);
    }

    private static QuotaRule Quota(string key, YamlNode item, Dictionary<string, YamlNode> values)
    {
        if (!values.TryGetValue("size", out YamlNode? size)) { throw new RegistryConfigurationException($"{key}.size", "is required (e.g. 10GiB)"); }
        return new QuotaRule(key, Repository(key, values), Size($"{key}.size", size));
    }

    private static RepositoryGlob Repository(string key, Dictionary<string, YamlNode> values)
    {
        if (!values.TryGetValue("repository", out YamlNode? node)) { throw new RegistryConfigurationException($"{key}.repository", "is required (a pattern such as prod/**)"); }
        string text = RegistryConfigLoader.NonEmpty($"{key}.repository", node);
        if (!RepositoryGlob.TryCompile(text, out RepositoryGlob? glob, out string error)) { throw new RegistryConfigurationException($"{key}.repository", error); }
        if (glob!.UsesAccount) { throw new RegistryConfigurationException($"{key}.repository", "${account} means nothing in a policy: policies hold for every client"); }
        return glob;
    }

    private static List<TagPattern> Patterns(string key, YamlNode? node)
    {
        var patterns = new List<TagPattern>();
        if (node is null) { return patterns; }
        IEnumerable<YamlNode> items = node is YamlSequenceNode sequence ? sequence.Children : [node];
        foreach (YamlNode item in items)
        {
            if (!TagPattern.TryCompile(RegistryConfigLoader.Scalar(key, item), out TagPattern? pattern, out string error)) { throw new RegistryConfigurationException(key, error); }
            patterns.Add(pattern!);
        }
        return patterns;
    }

    /// <summary><c>30d</c>, <c>2w</c> or a Go duration (<c>72h</c>).</summary>
    internal static TimeSpan Age(string key, YamlNode node)
    {
        string text = RegistryConfigLoader.Scalar(key, node).Trim();
        TimeSpan age;
        if (text.Length > 1 && text[^1] is 'd' or 'w' && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            age = TimeSpan.FromDays(text[^1] == 'w' ? count * 7L : count);
        }
        else if (!GoDuration.TryParse(text, out age)) { throw new RegistryConfigurationException(key, $"'{text}' is not an age such as 30d, 2w or 72h"); }
        return age > TimeSpan.Zero ? age : throw new RegistryConfigurationException(key, "must be positive");
    }

    /// <summary>Bytes: <c>10GiB</c>, <c>500MiB</c>, <c>2GB</c> (powers of 1000), or a plain number of bytes.</summary>
    internal static long Size(string key, YamlNode node)
    {
        string text = RegistryConfigLoader.Scalar(key, node).Trim();
        int end = 0;
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] == '.')) { end++; }
        long multiplier = text[end..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "KB" => 1000L, "MB" => 1000L * 1000, "GB" => 1000L * 1000 * 1000, "TB" => 1000L * 1000 * 1000 * 1000,
            "KIB" => 1L << 10, "MIB" => 1L << 20, "GIB" => 1L << 30, "TIB" => 1L << 40,
            _ => 0,
        };
        if (end == 0 || multiplier == 0 || !decimal.TryParse(text.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number)
            || number <= 0 || number * multiplier > long.MaxValue)
        {
            throw new RegistryConfigurationException(key, $"'{text}' is not a size such as 10GiB, 500MiB, 2GB or a number of bytes");
        }
        return (long)(number * multiplier);
    }
}
