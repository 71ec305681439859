namespace Dbuild.Registry.Proxy;

/// <summary>
/// One registry the pull-through cache mirrors: <c>proxy.remoteurl</c> (every repository, <see cref="Prefix"/> empty) or
/// an entry of <c>proxy.upstreams</c> (repositories under <see cref="Prefix"/>: <c>hub/library/busybox</c> is
/// <c>library/busybox</c> upstream).
/// </summary>
public sealed record ProxyUpstream
{
    /// <summary>The local path prefix without a trailing <c>/</c>; empty for <c>proxy.remoteurl</c>.</summary>
    public required string Prefix { get; init; }

    /// <summary>The upstream's base URL (<c>https://registry-1.docker.io</c>), no path.</summary>
    public required Uri RemoteUrl { get; init; }

    /// <summary>The user name presented upstream (Basic, or to its token server); null for anonymous pulls.</summary>
    public string? Username { get; init; }

    /// <summary>The password presented upstream; never logged.</summary>
    public string? Password { get; init; }

    /// <summary>How long a cached tag is served without asking upstream again; zero re-checks on every request.</summary>
    public TimeSpan Ttl { get; init; } = ProxySettings.DefaultTtl;

    /// <summary>The configuration key of this upstream, for messages (<c>proxy</c>, <c>proxy.upstreams[1]</c>).</summary>
    public string Key { get; init; } = "proxy";

    /// <summary>The upstream's <c>host[:port]</c>, as registry references name it.</summary>
    public string Host => RemoteUrl.IsDefaultPort ? RemoteUrl.Host : $"{RemoteUrl.Host}:{RemoteUrl.Port}";

    /// <summary>The repository name upstream when <paramref name="name"/> is under this upstream's prefix, else null.</summary>
    public string? RemoteName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Prefix.Length == 0) { return name; }
        return name.Length > Prefix.Length + 1 && name[Prefix.Length] == '/' && name.StartsWith(Prefix, StringComparison.Ordinal)
            ? name[(Prefix.Length + 1)..]
            : null;
    }

    /// <inheritdoc />
    public override string ToString() => Prefix.Length == 0 ? RemoteUrl.GetLeftPart(UriPartial.Authority) : $"{Prefix}/ → {RemoteUrl.GetLeftPart(UriPartial.Authority)}";
}
