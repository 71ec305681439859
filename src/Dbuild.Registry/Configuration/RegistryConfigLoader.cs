using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dbuild.Registry.Configuration;

/// <summary>
/// Reads registry:2's <c>config.yml</c> keys (the subset dbuild implements) into <see cref="RegistryOptions"/>.
/// <c>REGISTRY_*</c> environment variables override keys the way registry:2 does: the key path upper-cased and
/// joined with underscores (<c>REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY</c>). Errors name the key; unknown keys warn.
/// </summary>
public static class RegistryConfigLoader
{
    private const string EnvPrefix = "REGISTRY_";

    /// <summary><c>storage.azure.*</c> keys, kept as strings in <see cref="RegistryOptions.StorageParameters"/>; the Azure driver validates them.</summary>
    private static readonly string[] AzureParameters = ["accountname", "accountkey", "container", "rootdirectory", "realm", "serviceurl",
        "credentials.type", "credentials.clientid", "credentials.tenantid", "credentials.secret", "max_retries", "retry_delay"];

    private static readonly Dictionary<string, Action<RegistryOptions, string, YamlNode>> Setters = Notifications.NotificationConfigReader.AddSetters(Policies.PolicyConfigReader.AddSetters(Proxy.ProxyConfigReader.AddSetters(WithDriverParameters(new(StringComparer.OrdinalIgnoreCase)
    {
        ["version"] = (_, key, node) =>
        {
            string value = Scalar(key, node);
            if (value != "0.1") { throw new RegistryConfigurationException(key, $"'{value}' is not a supported version (use 0.1)"); }
        },
        ["log.level"] = (o, key, node) => o.LogLevel = Scalar(key, node).ToLowerInvariant() switch
        {
            "debug" => LogLevel.Debug,
            "info" => LogLevel.Information,
            "warn" or "warning" => LogLevel.Warning,
            "error" or "fatal" or "panic" => LogLevel.Error,
            var other => throw new RegistryConfigurationException(key, $"'{other}' is not a log level (debug, info, warn, error)"),
        },
        ["log.formatter"] = (_, key, node) => Scalar(key, node),
        ["storage.filesystem.rootdirectory"] = (o, key, node) => o.StorageRoot = NonEmpty(key, node),
        ["storage.delete.enabled"] = (o, key, node) => o.DeleteEnabled = Bool(key, node),
        ["storage.redirect.disable"] = (o, key, node) => o.RedirectDisabled = Bool(key, node),
        ["storage.maintenance.uploadpurging.enabled"] = (o, key, node) => o.UploadPurgingEnabled = Bool(key, node),
        ["storage.maintenance.uploadpurging.age"] = (o, key, node) => o.UploadPurgingAge = Duration(key, node),
        ["storage.maintenance.uploadpurging.interval"] = (o, key, node) => o.UploadPurgingInterval = Duration(key, node),
        ["storage.maintenance.uploadpurging.dryrun"] = (o, key, node) => o.UploadPurgingDryRun = Bool(key, node),
        ["storage.maintenance.gc.enabled"] = (o, key, node) => o.GcEnabled = Bool(key, node),
        ["storage.maintenance.gc.interval"] = (o, key, node) => o.GcInterval = Duration(key, node),
        ["storage.maintenance.gc.grace"] = (o, key, node) => o.GcGrace = Duration(key, node),
        ["storage.maintenance.gc.untagged"] = (o, key, node) => o.GcDeleteUntagged = Scalar(key, node).ToLowerInvariant() switch
        {
            "keep" => false,
            "delete" => true,
            var other => throw new RegistryConfigurationException(key, $"'{other}' is not keep or delete"),
        },
        ["storage.maintenance.readonly.enabled"] = (o, key, node) => o.ReadOnly = Bool(key, node),
        ["http.addr"] = (o, key, node) => o.Address = Address(key, node),
        ["http.tls.certificate"] = (o, key, node) => o.TlsCertificate = ExistingFile(key, node),
        ["http.tls.key"] = (o, key, node) => o.TlsKey = ExistingFile(key, node),
        ["http.tls.clientcas"] = (o, key, node) =>
        {
            o.TlsClientCas.Clear();
            IEnumerable<YamlNode> items = node is YamlSequenceNode sequence ? sequence.Children : [node];
            foreach (YamlNode item in items) { o.TlsClientCas.Add(ExistingFile(key, item)); }
        },
        ["http.debug.addr"] = (o, key, node) => o.DebugAddress = Address(key, node),
        ["http.debug.prometheus.enabled"] = (o, key, node) => o.PrometheusEnabled = Bool(key, node),
        ["http.debug.prometheus.path"] = (o, key, node) => o.PrometheusPath = Scalar(key, node) is ['/', ..] path
            ? path : throw new RegistryConfigurationException(key, "must be an absolute path such as /metrics"),
        ["ui.enabled"] = (o, key, node) => o.UiEnabled = Bool(key, node),
        ["health.storagedriver.enabled"] = (o, key, node) => o.HealthStorageDriverEnabled = Bool(key, node),
        ["health.storagedriver.interval"] = (o, key, node) => o.HealthStorageDriverInterval = Duration(key, node),
        ["health.storagedriver.threshold"] = (o, key, node) => o.HealthStorageDriverThreshold =
            int.TryParse(Scalar(key, node), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n
            : throw new RegistryConfigurationException(key, $"'{Scalar(key, node)}' is not a non-negative whole number"),
        ["auth.htpasswd.realm"] = (o, key, node) => o.HtpasswdRealm = NonEmpty(key, node),
        ["auth.htpasswd.path"] = (o, key, node) => o.HtpasswdPath = ExistingFile(key, node),
        ["auth.token.realm"] = (o, key, node) => o.TokenRealm = NonEmpty(key, node),
        ["auth.token.autoredirect"] = (o, key, node) => o.TokenAutoRedirect = Bool(key, node),
        ["auth.token.service"] = (o, key, node) => o.TokenService = NonEmpty(key, node),
        ["auth.token.issuer"] = (o, key, node) => o.TokenIssuer = NonEmpty(key, node),
        ["auth.token.rootcertbundle"] = (o, key, node) => o.TokenRootCertBundle = ExistingFile(key, node),
        ["auth.token.builtin.htpasswd"] = (o, key, node) => o.TokenBuiltinHtpasswd = ExistingFile(key, node),
        ["auth.token.builtin.acl"] = (o, key, node) => o.TokenBuiltinAcl = ExistingFile(key, node),
        ["auth.token.builtin.issuer"] = (o, key, node) => o.TokenBuiltinIssuer = NonEmpty(key, node),
        ["auth.token.builtin.expiration"] = (o, key, node) => o.TokenBuiltinExpiration = Duration(key, node),
        ["auth.token.builtin.key"] = (o, key, node) => o.TokenBuiltinKey = ExistingFile(key, node),
    }))));

    /// <summary>Keys with <c>_</c> (<c>storage.azure.max_retries</c>) by the form a variable name gives them (<c>storage.azure.max.retries</c>).</summary>
    private static readonly Dictionary<string, string> UnderscoreKeys =
        Setters.Keys.Where(k => k.Contains('_', StringComparison.Ordinal)).ToDictionary(k => k.Replace('_', '.'), StringComparer.OrdinalIgnoreCase);

    /// <summary>Keys that are maps in registry:2 (a bare <c>storage.maintenance.readonly: true</c> is read as <c>…enabled</c>).</summary>
    private static readonly HashSet<string> ShorthandEnabled = new(StringComparer.OrdinalIgnoreCase)
    {
        "storage.maintenance.readonly", "storage.delete", "storage.maintenance.uploadpurging", "storage.maintenance.gc",
    };

    /// <summary>
    /// Loads <paramref name="path"/> (or defaults when null), applies <c>REGISTRY_*</c> variables from
    /// <paramref name="environment"/>, validates and returns the options. Unknown keys are reported to <paramref name="warn"/>.
    /// </summary>
    public static RegistryOptions Load(string? path, IReadOnlyDictionary<string, string> environment, string defaultRootDirectory, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        warn ??= _ => { };
        var options = new RegistryOptions { StorageRoot = defaultRootDirectory };
        var values = new List<(string Key, YamlNode Node)>();
        if (path is not null)
        {
            if (!File.Exists(path)) { throw new RegistryConfigurationException("--config", $"file '{path}' does not exist"); }
            YamlMappingNode? root = ParseDocument(path, File.ReadAllText(path));
            if (root is not null)
            {
                Flatten(root, "", values, warn);
                if (!values.Exists(v => v.Key == "version")) { throw new RegistryConfigurationException("version", "is required (version: 0.1)"); }
            }
        }
        foreach ((string name, string value) in environment)
        {
            if (!name.StartsWith(EnvPrefix, StringComparison.Ordinal)) { continue; }
            string key = name[EnvPrefix.Length..].Replace('_', '.').ToLowerInvariant();
            if (ShorthandEnabled.Contains(key)) { key += ".enabled"; }
            key = UnderscoreKeys.GetValueOrDefault(key, key);
            if (!Setters.ContainsKey(key)) { continue; } // registry:2 ignores variables it has no key for, and so do we
            values.RemoveAll(v => string.Equals(v.Key, key, StringComparison.OrdinalIgnoreCase));
            values.Add((key, ParseEnvironmentValue(name, value)));
        }
        if (values.Exists(v => v.Key.StartsWith("storage.filesystem.", StringComparison.OrdinalIgnoreCase))
            && values.Exists(v => v.Key.StartsWith("storage.azure.", StringComparison.OrdinalIgnoreCase)))
        {
            throw new RegistryConfigurationException("storage", "exactly one storage driver is allowed, but both 'filesystem' and 'azure' are configured");
        }
        foreach ((string key, YamlNode node) in values) { Setters[key](options, key, node); }
        Validate(options);
        return options;
    }

    private static YamlMappingNode? ParseDocument(string path, string text)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException ex)
        {
            throw new RegistryConfigurationException(path, $"not valid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}");
        }
        if (stream.Documents.Count == 0) { return null; }
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new RegistryConfigurationException(path, "the document must be a mapping of registry:2 keys");
    }

    private static YamlNode ParseEnvironmentValue(string name, string value)
    {
        // registry:2 parses variable values as YAML, so lists can be given as [a, b].
        if (!value.StartsWith('[')) { return new YamlScalarNode(value); }
        var stream = new YamlStream();
        try { stream.Load(new StringReader(value)); }
        catch (YamlException ex) { throw new RegistryConfigurationException(name, $"not a valid YAML list: {ex.Message}"); }
        return stream.Documents[0].RootNode;
    }

    private static void Flatten(YamlMappingNode mapping, string prefix, List<(string, YamlNode)> values, Action<string> warn)
    {
        foreach ((YamlNode keyNode, YamlNode valueNode) in mapping.Children)
        {
            string name = (keyNode as YamlScalarNode)?.Value ?? "";
            string key = prefix.Length == 0 ? name : $"{prefix}.{name}";
            string lower = key.ToLowerInvariant();
            if (lower.StartsWith("storage.", StringComparison.Ordinal) && prefix == "storage"
                && name.ToLowerInvariant() is not ("filesystem" or "azure" or "delete" or "maintenance" or "cache" or "redirect" or "tag"))
            {
                throw new RegistryConfigurationException(key, "unsupported storage driver (this registry supports 'filesystem' and 'azure')");
            }
            if (lower.StartsWith("auth.", StringComparison.Ordinal) && prefix == "auth" && name.ToLowerInvariant() is not ("htpasswd" or "token"))
            {
                throw new RegistryConfigurationException(key, "unsupported auth method (this registry supports 'htpasswd' and 'token')");
            }
            if (Setters.ContainsKey(lower)) { values.Add((lower, valueNode)); continue; }
            if (valueNode is YamlMappingNode child) { Flatten(child, key, values, warn); continue; }
            if (ShorthandEnabled.Contains(lower)) { values.Add((lower + ".enabled", valueNode)); continue; }
            if (valueNode is YamlScalarNode { Value: null or "" } && IsKnownSection(lower)) { continue; }
            warn($"registry configuration: unknown key '{key}' ignored");
        }
    }

    private static Dictionary<string, Action<RegistryOptions, string, YamlNode>> WithDriverParameters(Dictionary<string, Action<RegistryOptions, string, YamlNode>> setters)
    {
        foreach (string name in AzureParameters)
        {
            setters[$"storage.azure.{name}"] = (o, key, node) => (o.StorageDriver, o.StorageParameters[name]) = ("azure", Scalar(key, node));
        }
        return setters;
    }

    private static bool IsKnownSection(string key) =>
        Setters.Keys.Any(k => k.StartsWith(key + ".", StringComparison.OrdinalIgnoreCase));

    private static void Validate(RegistryOptions options)
    {
        if (options.TlsCertificate is null != (options.TlsKey is null))
        {
            throw new RegistryConfigurationException(options.TlsKey is null ? "http.tls.key" : "http.tls.certificate",
                "http.tls.certificate and http.tls.key must be given together");
        }
        if (options.TlsClientCas.Count > 0 && options.TlsCertificate is null)
        {
            throw new RegistryConfigurationException("http.tls.clientcas", "client certificate verification needs http.tls.certificate and http.tls.key");
        }
        if (options.UploadPurgingEnabled && options.UploadPurgingInterval <= TimeSpan.Zero)
        {
            throw new RegistryConfigurationException("storage.maintenance.uploadpurging.interval", "must be positive");
        }
        if (options.UploadPurgingEnabled && options.UploadPurgingAge <= TimeSpan.Zero)
        {
            throw new RegistryConfigurationException("storage.maintenance.uploadpurging.age", "must be positive");
        }
        if (options.GcEnabled && (options.GcInterval <= TimeSpan.Zero || options.GcGrace <= TimeSpan.Zero))
        {
            throw new RegistryConfigurationException(options.GcInterval <= TimeSpan.Zero ? "storage.maintenance.gc.interval" : "storage.maintenance.gc.grace", "must be positive");
        }
        TokenAuthValidation.Validate(options);
        Auth.AccessRulesFactory.Check(options.TokenBuiltinAcl); // a malformed rules file stops startup with FILE:LINE:COL
        Proxy.ProxyConfigReader.Validate(options);
        Ui.UiAccess.Validate(options);
        if (options.HealthStorageDriverEnabled && options.HealthStorageDriverInterval <= TimeSpan.Zero)
        {
            throw new RegistryConfigurationException("health.storagedriver.interval", "must be positive");
        }
        if (options.DebugAddress is { } debug && TryParseAddress(debug, out _, out int debugPort)
            && (debugPort == 0 || (TryParseAddress(options.Address, out _, out int port) && port == debugPort)))
        {
            throw new RegistryConfigurationException("http.debug.addr", debugPort == 0 ? "needs a fixed port" : $"port {debugPort} is http.addr's port");
        }
        if (string.IsNullOrWhiteSpace(options.StorageRoot))
        {
            throw new RegistryConfigurationException("storage.filesystem.rootdirectory", "is required");
        }
    }

    internal static string Scalar(string key, YamlNode node) => node is YamlScalarNode scalar
        ? scalar.Value ?? ""
        : throw new RegistryConfigurationException(key, "expected a single value, not a list or map");

    internal static string NonEmpty(string key, YamlNode node)
    {
        string value = Scalar(key, node);
        return string.IsNullOrWhiteSpace(value) ? throw new RegistryConfigurationException(key, "must not be empty") : value;
    }

    internal static bool Bool(string key, YamlNode node) => Scalar(key, node).ToLowerInvariant() switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" or "" => false,
        var other => throw new RegistryConfigurationException(key, $"'{other}' is not a boolean (true or false)"),
    };

    internal static TimeSpan Duration(string key, YamlNode node)
    {
        string value = Scalar(key, node);
        return GoDuration.TryParse(value, out TimeSpan duration)
            ? duration
            : throw new RegistryConfigurationException(key, $"'{value}' is not a duration such as 168h, 30m or 10s");
    }

    private static string ExistingFile(string key, YamlNode node)
    {
        string value = NonEmpty(key, node);
        return File.Exists(value) ? Path.GetFullPath(value) : throw new RegistryConfigurationException(key, $"file '{value}' does not exist");
    }

    private static string Address(string key, YamlNode node)
    {
        string value = NonEmpty(key, node);
        return TryParseAddress(value, out _, out _)
            ? value
            : throw new RegistryConfigurationException(key, $"'{value}' is not host:port or :port");
    }

    /// <summary>Splits <c>host:port</c>, <c>:port</c> or <c>[v6]:port</c>; a null host means every interface.</summary>
    internal static bool TryParseAddress(string value, out IPAddress? host, out int port)
    {
        host = null;
        port = 0;
        int colon = value.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535) { return false; }
        string hostPart = value[..colon].Trim('[', ']');
        if (hostPart.Length == 0) { return true; }
        if (hostPart == "localhost") { host = IPAddress.Loopback; return true; }
        return IPAddress.TryParse(hostPart, out host);
    }
}
