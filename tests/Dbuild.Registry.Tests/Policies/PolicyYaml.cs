using Dbuild.Registry.Configuration;

namespace Dbuild.Registry.Tests.Policies;

/// <summary>Reads a <c>policies:</c> block through the real config loader, as <c>dbuild registry serve</c> does.</summary>
internal static class PolicyYaml
{
    public static RegistryOptions Load(string policiesYaml, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var dir = new Dbuild.Testing.TempDirectory();
        string path = dir.Combine("config.yml");
        File.WriteAllText(path, "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /data\n" + policiesYaml);
        var warnings = new List<string>();
        RegistryOptions options = RegistryConfigLoader.Load(path, environment ?? new Dictionary<string, string>(), "/unused", warnings.Add);
        Assert.Empty(warnings);
        return options;
    }

    /// <summary>Applies the policies of <paramref name="policiesYaml"/> to a fixture's options.</summary>
    public static Action<RegistryOptions> Apply(string policiesYaml, Action<RegistryOptions>? more = null)
    {
        RegistryOptions loaded = Load(policiesYaml);
        return o =>
        {
            o.Policies.CopyFrom(loaded.Policies);
            more?.Invoke(o);
        };
    }
}
