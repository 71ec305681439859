using Dbuild.Registry.Client;

namespace Dbuild.Cli;

/// <summary>
/// The process's registry settings: dbuild.toml's <c>[registry."host"]</c> entries, the certs.d root and
/// <c>DBUILD_INSECURE_REGISTRIES</c>, read once and shared by the HTTP handler and every <see cref="RegistryClient"/>.
/// </summary>
internal static class RegistrySetup
{
    private static readonly Lazy<RegistryHosts> Loaded = new(Load);

    /// <summary>The settings; reading a broken configuration file throws here, naming the file.</summary>
    public static RegistryHosts Hosts => Loaded.Value;

    /// <summary>
    /// The configuration file: <c>$DBUILD_CONFIG</c> when set (it must exist), else the first that exists of
    /// <c>$XDG_CONFIG_HOME/dbuild/dbuild.toml</c> (<c>~/.config/dbuild/dbuild.toml</c>) and <c>/etc/dbuild/dbuild.toml</c>.
    /// </summary>
    public static string? ConfigFile()
    {
        if (Environment.GetEnvironmentVariable("DBUILD_CONFIG") is { Length: > 0 } explicitFile)
        {
            return File.Exists(explicitFile) ? Path.GetFullPath(explicitFile)
                : throw new UsageException($"DBUILD_CONFIG={explicitFile}: no such file.");
        }
        string configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        string user = Path.Combine(configHome, "dbuild", "dbuild.toml");
        if (File.Exists(user)) { return user; }
        return File.Exists("/etc/dbuild/dbuild.toml") ? "/etc/dbuild/dbuild.toml" : null;
    }

    private static RegistryHosts Load()
    {
        string? file = ConfigFile();
        var entries = new Dictionary<string, RegistryHostConfig>(file is null ? new Dictionary<string, RegistryHostConfig>() : RegistryConfigFile.Load(file),
            StringComparer.OrdinalIgnoreCase);
        foreach (string host in (Environment.GetEnvironmentVariable("DBUILD_INSECURE_REGISTRIES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            entries[host] = (entries.TryGetValue(host, out RegistryHostConfig? entry) ? entry : new RegistryHostConfig()).Merge(new RegistryHostConfig { Insecure = true });
        }
        string certs = Environment.GetEnvironmentVariable("DBUILD_CERTS_D") is { Length: > 0 } dir ? Path.GetFullPath(dir) : RegistryHosts.DefaultCertsDirectory;
        return new RegistryHosts(entries, certs, file);
    }
}
