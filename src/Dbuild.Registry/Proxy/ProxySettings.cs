namespace Dbuild.Registry.Proxy;

/// <summary>
/// The <c>proxy</c> section of config.yml: registry:2's <c>remoteurl</c>, <c>username</c>, <c>password</c> and
/// <c>ttl</c>, and dbuild's <c>upstreams</c> (several upstreams by path prefix). Keys arrive in any order (file, then
/// <c>REGISTRY_PROXY_*</c> variables), so they are collected here and checked by <see cref="ProxyConfigReader.Validate"/>.
/// </summary>
public sealed class ProxySettings
{
    /// <summary>distribution 3.0's default <c>proxy.ttl</c>.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromHours(168);

    /// <summary><c>proxy.remoteurl</c>: mirror every repository of this registry.</summary>
    public Uri? RemoteUrl { get; set; }

    /// <summary><c>proxy.username</c>.</summary>
    public string? Username { get; set; }

    /// <summary><c>proxy.password</c>.</summary>
    public string? Password { get; set; }

    /// <summary><c>proxy.ttl</c>: how long a cached tag is trusted before upstream is asked again (0: always ask).</summary>
    public TimeSpan Ttl { get; set; } = DefaultTtl;

    /// <summary><c>proxy.upstreams</c>: mirrors by path prefix, checked before <see cref="RemoteUrl"/>.</summary>
    public IList<ProxyUpstream> Upstreams { get; } = [];

    /// <summary>True when anything is mirrored.</summary>
    public bool Enabled => RemoteUrl is not null || Upstreams.Count > 0;

    /// <summary>Every upstream, longest prefix first; <c>proxy.remoteurl</c> (prefix "") last.</summary>
    public IReadOnlyList<ProxyUpstream> All()
    {
        var all = Upstreams.OrderByDescending(u => u.Prefix.Length).ToList();
        if (RemoteUrl is not null)
        {
            all.Add(new ProxyUpstream { Prefix = "", RemoteUrl = RemoteUrl, Username = Username, Password = Password, Ttl = Ttl, Key = "proxy" });
        }
        return all;
    }

    /// <summary>Copies every setting from <paramref name="other"/>.</summary>
    public void CopyFrom(ProxySettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        (RemoteUrl, Username, Password, Ttl) = (other.RemoteUrl, other.Username, other.Password, other.Ttl);
        Upstreams.Clear();
        foreach (ProxyUpstream upstream in other.Upstreams) { Upstreams.Add(upstream); }
    }
}
