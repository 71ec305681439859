using System.Globalization;
using Dbuild.Registry.Configuration;
using YamlDotNet.RepresentationModel;

namespace Dbuild.Registry.Notifications;

/// <summary>
/// Reads registry:2's <c>notifications.endpoints</c> list into <see cref="NotificationSettings"/>. Errors name the key
/// (<c>notifications.endpoints[0].url</c>); unknown keys inside an entry are errors, as a typo would silently lose events.
/// </summary>
internal static class NotificationConfigReader
{
    private const string Key = "notifications.endpoints";
    private static readonly string[] Actions = [NotificationAction.Push, NotificationAction.Pull, NotificationAction.Delete, NotificationAction.Mount];
    private static readonly HashSet<string> EntryKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "name", "disabled", "url", "headers", "timeout", "threshold", "backoff", "ignoredmediatypes", "ignore",
    };

    /// <summary>Adds the notifications keys to the loader's table.</summary>
    public static Dictionary<string, Action<RegistryOptions, string, YamlNode>> AddSetters(Dictionary<string, Action<RegistryOptions, string, YamlNode>> setters)
    {
        setters[Key] = (o, key, node) =>
        {
            o.Notifications.Endpoints.Clear();
            foreach (NotificationEndpoint endpoint in Endpoints(key, node)) { o.Notifications.Endpoints.Add(endpoint); }
        };
        return setters;
    }

    private static List<NotificationEndpoint> Endpoints(string key, YamlNode node)
    {
        if (node is not YamlSequenceNode sequence) { throw new RegistryConfigurationException(key, "expected a list of {name, url, headers, timeout, threshold, backoff}"); }
        var result = new List<NotificationEndpoint>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (YamlNode item in sequence.Children)
        {
            string entryKey = $"{key}[{result.Count}]";
            if (item is not YamlMappingNode mapping) { throw new RegistryConfigurationException(entryKey, "expected a map with name and url"); }
            Dictionary<string, YamlNode> values = Entries(entryKey, mapping, EntryKeys);
            string name = values.TryGetValue("name", out YamlNode? n) ? RegistryConfigLoader.NonEmpty($"{entryKey}.name", n)
                : throw new RegistryConfigurationException($"{entryKey}.name", "is required");
            if (name is "." or "..") { throw new RegistryConfigurationException($"{entryKey}.name", $"'{name}' cannot name a queue folder"); }
            if (!names.Add(name)) { throw new RegistryConfigurationException($"{entryKey}.name", $"'{name}' is used by an earlier endpoint (each has its own queue)"); }
            var ignoredMediaTypes = new List<string>();
            if (values.TryGetValue("ignoredmediatypes", out YamlNode? legacy)) { ignoredMediaTypes.AddRange(List($"{entryKey}.ignoredmediatypes", legacy)); }
            var ignoredActions = new List<string>();
            if (values.TryGetValue("ignore", out YamlNode? ignore))
            {
                if (ignore is not YamlMappingNode ignoreMap) { throw new RegistryConfigurationException($"{entryKey}.ignore", "expected a map with mediatypes and actions"); }
                Dictionary<string, YamlNode> ignores = Entries($"{entryKey}.ignore", ignoreMap, new(StringComparer.OrdinalIgnoreCase) { "mediatypes", "actions" });
                if (ignores.TryGetValue("mediatypes", out YamlNode? types)) { ignoredMediaTypes.AddRange(List($"{entryKey}.ignore.mediatypes", types)); }
                if (ignores.TryGetValue("actions", out YamlNode? actions))
                {
                    foreach (string action in List($"{entryKey}.ignore.actions", actions))
                    {
                        if (!Actions.Contains(action, StringComparer.Ordinal))
                        {
                            throw new RegistryConfigurationException($"{entryKey}.ignore.actions", $"'{action}' is not an action ({string.Join(", ", Actions)})");
                        }
                        ignoredActions.Add(action);
                    }
                }
            }
            result.Add(new NotificationEndpoint
            {
                Name = name,
                Key = entryKey,
                Disabled = values.TryGetValue("disabled", out YamlNode? d) && RegistryConfigLoader.Bool($"{entryKey}.disabled", d),
                Url = values.TryGetValue("url", out YamlNode? url) ? Url($"{entryKey}.url", url) : throw new RegistryConfigurationException($"{entryKey}.url", "is required"),
                Headers = values.TryGetValue("headers", out YamlNode? h) ? Headers($"{entryKey}.headers", h) : new Dictionary<string, IReadOnlyList<string>>(),
                Timeout = values.TryGetValue("timeout", out YamlNode? t) ? Positive($"{entryKey}.timeout", t) : TimeSpan.FromSeconds(1),
                Threshold = values.TryGetValue("threshold", out YamlNode? th) ? Threshold($"{entryKey}.threshold", th) : 10,
                Backoff = values.TryGetValue("backoff", out YamlNode? b) ? Positive($"{entryKey}.backoff", b) : TimeSpan.FromSeconds(1),
                IgnoredMediaTypes = ignoredMediaTypes,
                IgnoredActions = ignoredActions,
            });
        }
        return result;
    }

    private static Dictionary<string, YamlNode> Entries(string key, YamlMappingNode mapping, HashSet<string> allowed)
    {
        var values = new Dictionary<string, YamlNode>(StringComparer.OrdinalIgnoreCase);
        foreach ((YamlNode k, YamlNode v) in mapping.Children)
        {
            string name = (k as YamlScalarNode)?.Value ?? "";
            if (!allowed.Contains(name)) { throw new RegistryConfigurationException($"{key}.{name}", $"unknown key ({string.Join(", ", allowed)})"); }
            values[name] = v;
        }
        return values;
    }

    private static List<string> List(string key, YamlNode node) => node is YamlSequenceNode sequence
        ? sequence.Children.Select((item, i) => RegistryConfigLoader.NonEmpty($"{key}[{i}]", item)).ToList()
        : throw new RegistryConfigurationException(key, "expected a list");

    private static Dictionary<string, IReadOnlyList<string>> Headers(string key, YamlNode node)
    {
        if (node is not YamlMappingNode mapping) { throw new RegistryConfigurationException(key, "expected a map of header name to a list of values"); }
        var headers = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach ((YamlNode k, YamlNode v) in mapping.Children)
        {
            string name = (k as YamlScalarNode)?.Value ?? "";
            if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 127 || c == ':'))
            {
                throw new RegistryConfigurationException($"{key}.{name}", "is not a valid header name");
            }
            // registry:2 takes a list per header (http.Header); a single value is accepted as a list of one.
            headers[name] = v is YamlSequenceNode ? List($"{key}.{name}", v) : [RegistryConfigLoader.Scalar($"{key}.{name}", v)];
        }
        return headers;
    }

    private static Uri Url(string key, YamlNode node)
    {
        string value = RegistryConfigLoader.NonEmpty(key, node);
        return Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0
            ? uri
            : throw new RegistryConfigurationException(key, $"'{value}' is not an http:// or https:// URL");
    }

    private static TimeSpan Positive(string key, YamlNode node)
    {
        TimeSpan value = RegistryConfigLoader.Duration(key, node);
        return value > TimeSpan.Zero ? value : throw new RegistryConfigurationException(key, "must be positive");
    }

    private static int Threshold(string key, YamlNode node)
    {
        string value = RegistryConfigLoader.Scalar(key, node);
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new RegistryConfigurationException(key, $"'{value}' is not a positive whole number");
    }
}
