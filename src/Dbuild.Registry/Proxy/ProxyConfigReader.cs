using Dbuild.Registry.Api;
using Dbuild.Registry.Configuration;
using YamlDotNet.RepresentationModel;

namespace Dbuild.Registry.Proxy;

/// <summary>
/// Reads the <c>proxy</c> keys of config.yml into <see cref="ProxySettings"/>: registry:2's <c>proxy.remoteurl</c>,
/// <c>proxy.username</c>, <c>proxy.password</c>, <c>proxy.ttl</c>, and <c>proxy.upstreams</c>, a list of
/// <c>{prefix, remoteurl, username, password, ttl}</c>. Errors name the key (<c>proxy.upstreams[1].remoteurl</c>).
/// </summary>
internal static class ProxyConfigReader
{
    private static readonly HashSet<string> EntryKeys = new(StringComparer.OrdinalIgnoreCase) { "prefix", "remoteurl", "username", "password", "ttl" };

    /// <summary>Adds the proxy keys to the loader's table.</summary>
    public static Dictionary<string, Action<RegistryOptions, string, YamlNode>> AddSetters(Dictionary<string, Action<RegistryOptions, string, YamlNode>> setters)
    {
        setters["proxy.remoteurl"] = (o, key, node) => o.Proxy.RemoteUrl = RemoteUrl(key, node);
        setters["proxy.username"] = (o, key, node) => o.Proxy.Username = RegistryConfigLoader.Scalar(key, node);
        setters["proxy.password"] = (o, key, node) => o.Proxy.Password = RegistryConfigLoader.Scalar(key, node);
        setters["proxy.ttl"] = (o, key, node) => o.Proxy.Ttl = Ttl(key, node);
        setters["proxy.upstreams"] = (o, key, node) =>
        {
            o.Proxy.Upstreams.Clear();
            foreach (ProxyUpstream upstream in Upstreams(key, node)) { o.Proxy.Upstreams.Add(upstream); }
        };
        return setters;
    }

    /// <summary>Checks what single keys cannot: credentials given in pairs, one upstream per prefix.</summary>
    public static void Validate(RegistryOptions options)
    {
        ProxySettings proxy = options.Proxy;
        if (string.IsNullOrEmpty(proxy.Username) != string.IsNullOrEmpty(proxy.Password))
        {
            throw new RegistryConfigurationException(string.IsNullOrEmpty(proxy.Username) ? "proxy.username" : "proxy.password",
                "proxy.username and proxy.password must be given together");
        }
        if (proxy.RemoteUrl is null && !string.IsNullOrEmpty(proxy.Username))
        {
            throw new RegistryConfigurationException("proxy.remoteurl", "is required when proxy.username is set");
        }
    }

    private static IEnumerable<ProxyUpstream> Upstreams(string key, YamlNode node)
    {
        if (node is not YamlSequenceNode sequence)
        {
            throw new RegistryConfigurationException(key, "expected a list of {prefix, remoteurl, username, password, ttl}");
        }
        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        int index = 0;
        foreach (YamlNode item in sequence.Children)
        {
            string entryKey = $"{key}[{index++}]";
            if (item is not YamlMappingNode mapping) { throw new RegistryConfigurationException(entryKey, "expected a map with prefix and remoteurl"); }
            var values = new Dictionary<string, YamlNode>(StringComparer.OrdinalIgnoreCase);
            foreach ((YamlNode k, YamlNode v) in mapping.Children)
            {
                string name = (k as YamlScalarNode)?.Value ?? "";
                if (!EntryKeys.Contains(name)) { throw new RegistryConfigurationException($"{entryKey}.{name}", "unknown key (prefix, remoteurl, username, password, ttl)"); }
                values[name] = v;
            }
            string prefix = values.TryGetValue("prefix", out YamlNode? p) ? RegistryConfigLoader.Scalar($"{entryKey}.prefix", p).Trim('/') : "";
            if (prefix.Length == 0) { throw new RegistryConfigurationException($"{entryKey}.prefix", "is required (e.g. hub: hub/library/busybox is library/busybox upstream)"); }
            if (!DistributionPath.IsValidName(prefix)) { throw new RegistryConfigurationException($"{entryKey}.prefix", $"'{prefix}' is not a repository path"); }
            if (!prefixes.Add(prefix)) { throw new RegistryConfigurationException($"{entryKey}.prefix", $"'{prefix}' is used by an earlier upstream"); }
            if (!values.TryGetValue("remoteurl", out YamlNode? url)) { throw new RegistryConfigurationException($"{entryKey}.remoteurl", "is required"); }
            string? user = values.TryGetValue("username", out YamlNode? u) ? RegistryConfigLoader.Scalar($"{entryKey}.username", u) : null;
            string? password = values.TryGetValue("password", out YamlNode? pw) ? RegistryConfigLoader.Scalar($"{entryKey}.password", pw) : null;
            if (string.IsNullOrEmpty(user) != string.IsNullOrEmpty(password))
            {
                throw new RegistryConfigurationException($"{entryKey}.{(string.IsNullOrEmpty(user) ? "username" : "password")}", "username and password must be given together");
            }
            yield return new ProxyUpstream
            {
                Prefix = prefix,
                RemoteUrl = RemoteUrl($"{entryKey}.remoteurl", url),
                Username = string.IsNullOrEmpty(user) ? null : user,
                Password = string.IsNullOrEmpty(password) ? null : password,
                Ttl = values.TryGetValue("ttl", out YamlNode? ttl) ? Ttl($"{entryKey}.ttl", ttl) : ProxySettings.DefaultTtl,
                Key = entryKey,
            };
        }
    }

    private static Uri RemoteUrl(string key, YamlNode node)
    {
        string value = RegistryConfigLoader.NonEmpty(key, node);
        if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
        {
            throw new RegistryConfigurationException(key, $"'{value}' is not an http:// or https:// URL");
        }
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            throw new RegistryConfigurationException(key, $"'{value}' must be the registry's base URL (scheme, host and port only; credentials go in username and password)");
        }
        return new Uri(uri.GetLeftPart(UriPartial.Authority));
    }

    private static TimeSpan Ttl(string key, YamlNode node)
    {
        TimeSpan ttl = RegistryConfigLoader.Duration(key, node);
        return ttl < TimeSpan.Zero ? throw new RegistryConfigurationException(key, "must not be negative (0 re-checks tags on every pull)") : ttl;
    }
}
