namespace Dbuild.Registry.Client;

/// <summary>
/// How to reach one registry host, in buildkitd.toml's <c>[registry."host:port"]</c> shape: plain HTTP, TLS without
/// verification, extra CA certificates, client key pairs and pull mirrors.
/// </summary>
/// <remarks>https://github.com/moby/buildkit/blob/master/docs/buildkitd.toml.md</remarks>
public sealed record RegistryHostConfig
{
    /// <summary>Plain HTTP only (<c>http = true</c>).</summary>
    public bool Http { get; init; }

    /// <summary>
    /// <c>insecure = true</c>: TLS without certificate verification, falling back to plain HTTP when the host does not
    /// speak TLS (docker's <c>insecure-registries</c>). Null when not configured: loopback hosts are then insecure, as in docker.
    /// </summary>
    public bool? Insecure { get; init; }

    /// <summary>PEM files of CA certificates trusted for this host besides the system's.</summary>
    public IReadOnlyList<string> CaFiles { get; init; } = [];

    /// <summary>Client certificates offered for mutual TLS.</summary>
    public IReadOnlyList<ClientKeyPair> KeyPairs { get; init; } = [];

    /// <summary>Hosts tried, in order, before this one for pulls.</summary>
    public IReadOnlyList<string> Mirrors { get; init; } = [];

    /// <summary>This entry with <paramref name="other"/>'s settings added (lists appended, flags or-ed, <c>Insecure</c> overridden when set).</summary>
    public RegistryHostConfig Merge(RegistryHostConfig other) => new()
    {
        Http = Http || other.Http,
        Insecure = other.Insecure ?? Insecure,
        CaFiles = [.. CaFiles, .. other.CaFiles],
        KeyPairs = [.. KeyPairs, .. other.KeyPairs],
        Mirrors = [.. Mirrors, .. other.Mirrors],
    };
}

/// <summary>A PEM certificate and its PEM private key, offered to a registry that asks for a client certificate.</summary>
public sealed record ClientKeyPair(string CertificateFile, string KeyFile);
