using Tomlyn;
using Tomlyn.Model;

namespace Dbuild.Registry.Client;

/// <summary>
/// Reads dbuild.toml's registry section, which has buildkitd.toml's shape:
/// <code>
/// [registry."docker.io"]
///   mirrors = ["mirror.example:5000"]
/// [registry."127.0.0.1:5000"]
///   http = false
///   insecure = false
///   ca = ["/etc/dbuild/certs/ca.pem"]
///   [[registry."127.0.0.1:5000".keypair]]
///     key = "/etc/dbuild/certs/client.key"
///     cert = "/etc/dbuild/certs/client.cert"
/// </code>
/// Other top-level tables are ignored, so a buildkitd.toml can be used as it is; unknown keys inside a registry entry
/// are errors. Relative paths are relative to the file's folder.
/// </summary>
/// <remarks>https://github.com/moby/buildkit/blob/master/docs/buildkitd.toml.md</remarks>
public static class RegistryConfigFile
{
    /// <summary>Parses <paramref name="path"/>; throws <see cref="InvalidOperationException"/> naming the file, the entry and what is wrong.</summary>
    public static IReadOnlyDictionary<string, RegistryHostConfig> Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{path}: cannot read the dbuild configuration: {ex.Message}", ex);
        }
        return Parse(text, path);
    }

    /// <summary>Parses the text of a configuration file named <paramref name="path"/> (used in messages and for relative paths).</summary>
    public static IReadOnlyDictionary<string, RegistryHostConfig> Parse(string text, string path)
    {
        TomlTable document;
        try { document = TomlSerializer.Deserialize<TomlTable>(text) ?? new TomlTable(); }
        catch (TomlException ex)
        {
            throw new InvalidOperationException($"{path}: {ex.Message.ReplaceLineEndings(" ")}", ex);
        }
        var result = new Dictionary<string, RegistryHostConfig>(StringComparer.OrdinalIgnoreCase);
        if (!document.TryGetValue("registry", out object? registries)) { return result; }
        if (registries is not TomlTable table) { throw new InvalidOperationException($"{path}: 'registry' must be a table of [registry.\"host\"] entries."); }
        string folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        foreach (KeyValuePair<string, object> entry in table)
        {
            string where = $"{path}: [registry.\"{entry.Key}\"]";
            if (entry.Value is not TomlTable settings) { throw new InvalidOperationException($"{where} must be a table."); }
            result[entry.Key] = ParseEntry(settings, where, folder);
        }
        return result;
    }

    private static RegistryHostConfig ParseEntry(TomlTable settings, string where, string folder)
    {
        bool http = false;
        bool? insecure = null;
        var cas = new List<string>();
        var pairs = new List<ClientKeyPair>();
        var mirrors = new List<string>();
        foreach (KeyValuePair<string, object> setting in settings)
        {
            switch (setting.Key)
            {
                case "http": http = Bool(setting.Value, where, "http"); break;
                case "insecure": insecure = Bool(setting.Value, where, "insecure"); break;
                case "ca": cas.AddRange(Strings(setting.Value, where, "ca").Select(p => Path.GetFullPath(p, folder))); break;
                case "mirrors": mirrors.AddRange(Strings(setting.Value, where, "mirrors")); break;
                case "keypair":
                    if (setting.Value is not TomlTableArray keypairs) { throw new InvalidOperationException($"{where}: keypair must be [[registry.\"host\".keypair]] tables."); }
                    foreach (TomlTable pair in keypairs)
                    {
                        string key = pair.TryGetValue("key", out object? k) && k is string ks ? ks : throw new InvalidOperationException($"{where}: a keypair needs key = \"FILE\".");
                        string cert = pair.TryGetValue("cert", out object? c) && c is string cs ? cs : throw new InvalidOperationException($"{where}: a keypair needs cert = \"FILE\".");
                        pairs.Add(new ClientKeyPair(Path.GetFullPath(cert, folder), Path.GetFullPath(key, folder)));
                    }
                    break;
                default:
                    throw new InvalidOperationException($"{where}: unknown key '{setting.Key}' (known: http, insecure, ca, mirrors, keypair).");
            }
        }
        return new RegistryHostConfig { Http = http, Insecure = insecure, CaFiles = cas, KeyPairs = pairs, Mirrors = mirrors };
    }

    private static bool Bool(object value, string where, string key) =>
        value is bool b ? b : throw new InvalidOperationException($"{where}: {key} must be true or false.");

    private static IEnumerable<string> Strings(object value, string where, string key) =>
        value is TomlArray array && array.All(v => v is string)
            ? array.Cast<string>()
            : throw new InvalidOperationException($"{where}: {key} must be a list of strings, e.g. {key} = [\"...\"].");
}
