namespace Dbuild.Registry.Configuration;

/// <summary>The registry configuration is invalid; <see cref="Key"/> names the registry:2 key at fault.</summary>
public sealed class RegistryConfigurationException(string key, string message)
    : Exception($"Invalid registry configuration: {key}: {message}")
{
    /// <summary>The dotted registry:2 key, e.g. <c>storage.maintenance.uploadpurging.age</c>.</summary>
    public string Key { get; } = key;
}
