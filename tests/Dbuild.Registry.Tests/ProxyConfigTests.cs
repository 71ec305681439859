using Dbuild.Registry.Configuration;
using Dbuild.Registry.Proxy;

namespace Dbuild.Registry.Tests;

/// <summary>The <c>proxy.*</c> keys of config.yml (registry:2's and dbuild's <c>proxy.upstreams</c>), and how a name finds its upstream.</summary>
public sealed class ProxyConfigTests : IDisposable
{
    private readonly Dbuild.Testing.TempDirectory _dir = new();
    private static readonly Dictionary<string, string> NoEnvironment = [];

    public void Dispose() => _dir.Dispose();

    private RegistryOptions Load(string proxyYaml, IReadOnlyDictionary<string, string>? environment = null)
    {
        string path = _dir.Combine($"config-{Guid.NewGuid():N}.yml");
        File.WriteAllText(path, "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /data\n" + proxyYaml);
        var warnings = new List<string>();
        RegistryOptions options = RegistryConfigLoader.Load(path, environment ?? NoEnvironment, "/unused", warnings.Add);
        Assert.Empty(warnings);
        return options;
    }

    [Fact]
    public void Load_Registry2ProxyKeys_FillTheSettings()
    {
        RegistryOptions options = Load("proxy:\n  remoteurl: https://registry-1.docker.io\n  username: bot\n  password: pw\n  ttl: 2h30m\n");
        ProxyUpstream upstream = Assert.Single(options.Proxy.All());
        Assert.Equal("", upstream.Prefix);
        Assert.Equal(new Uri("https://registry-1.docker.io"), upstream.RemoteUrl);
        Assert.Equal("registry-1.docker.io", upstream.Host);
        Assert.Equal(("bot", "pw"), (upstream.Username, upstream.Password));
        Assert.Equal(TimeSpan.FromMinutes(150), upstream.Ttl);
    }

    [Fact]
    public void Load_NoTtl_IsDistribution3Default168h_AndZeroMeansAlwaysRecheck()
    {
        Assert.Equal(TimeSpan.FromHours(168), Assert.Single(Load("proxy:\n  remoteurl: http://127.0.0.1:5001\n").Proxy.All()).Ttl);
        Assert.Equal(TimeSpan.Zero, Assert.Single(Load("proxy:\n  remoteurl: http://127.0.0.1:5001\n  ttl: 0\n").Proxy.All()).Ttl);
        Assert.False(Load("").Proxy.Enabled);
    }

    [Fact]
    public void Load_Upstreams_LongestPrefixFirst_RemoteUrlLast()
    {
        RegistryOptions options = Load("""
            proxy:
              remoteurl: http://127.0.0.1:5000
              upstreams:
                - prefix: hub
                  remoteurl: https://registry-1.docker.io
                  ttl: 10m
                - prefix: hub/mirror
                  remoteurl: http://10.0.0.5:5000/
                  username: robot
                  password: secret
            """);
        IReadOnlyList<ProxyUpstream> all = options.Proxy.All();
        Assert.Equal(["hub/mirror", "hub", ""], all.Select(u => u.Prefix));
        Assert.Equal("10.0.0.5:5000", all[0].Host);
        Assert.Equal("robot", all[0].Username);
        Assert.Equal(TimeSpan.FromMinutes(10), all[1].Ttl);
        Assert.Equal(TimeSpan.FromHours(168), all[0].Ttl);
        Assert.Equal("proxy.upstreams[1]", all[0].Key);
    }

    [Fact]
    public void Load_EnvironmentVariables_SetProxyKeysAsRegistry2Does()
    {
        RegistryOptions options = Load("", new Dictionary<string, string>
        {
            ["REGISTRY_PROXY_REMOTEURL"] = "http://127.0.0.1:5001",
            ["REGISTRY_PROXY_TTL"] = "5m",
            ["REGISTRY_PROXY_UPSTREAMS"] = "[{prefix: quay, remoteurl: 'https://quay.io'}]",
        });
        Assert.Equal(["quay", ""], options.Proxy.All().Select(u => u.Prefix));
        Assert.Equal(TimeSpan.FromMinutes(5), options.Proxy.All()[1].Ttl);
    }

    [Theory]
    [InlineData("proxy:\n  remoteurl: registry-1.docker.io\n", "proxy.remoteurl")] // no scheme
    [InlineData("proxy:\n  remoteurl: ftp://example.com\n", "proxy.remoteurl")] // not http(s)
    [InlineData("proxy:\n  remoteurl: https://example.com/v2/\n", "proxy.remoteurl")] // a path: the base URL is wanted
    [InlineData("proxy:\n  remoteurl: https://user:pw@example.com\n", "proxy.remoteurl")] // credentials in the URL
    [InlineData("proxy:\n  remoteurl: http://127.0.0.1:5001\n  ttl: soon\n", "proxy.ttl")] // not a duration
    [InlineData("proxy:\n  remoteurl: http://127.0.0.1:5001\n  ttl: -1h\n", "proxy.ttl")] // negative
    [InlineData("proxy:\n  remoteurl: http://127.0.0.1:5001\n  username: bot\n", "proxy.password")] // half the credentials
    [InlineData("proxy:\n  username: bot\n  password: pw\n", "proxy.remoteurl")] // credentials for nothing
    [InlineData("proxy:\n  upstreams: hub\n", "proxy.upstreams")] // not a list
    [InlineData("proxy:\n  upstreams:\n    - remoteurl: http://a:5000\n", "proxy.upstreams[0].prefix")] // no prefix
    [InlineData("proxy:\n  upstreams:\n    - prefix: Hub\n      remoteurl: http://a:5000\n", "proxy.upstreams[0].prefix")] // not a repository path
    [InlineData("proxy:\n  upstreams:\n    - prefix: hub\n", "proxy.upstreams[0].remoteurl")] // no remoteurl
    [InlineData("proxy:\n  upstreams:\n    - prefix: hub\n      remoteurl: http://a:5000\n    - prefix: hub/\n      remoteurl: http://b:5000\n", "proxy.upstreams[1].prefix")] // the same prefix twice
    [InlineData("proxy:\n  upstreams:\n    - prefix: hub\n      remoteurl: http://a:5000\n      mirror: true\n", "proxy.upstreams[0].mirror")] // unknown key
    [InlineData("proxy:\n  upstreams:\n    - prefix: hub\n      remoteurl: http://a:5000\n      password: pw\n", "proxy.upstreams[0].username")] // half the credentials
    [InlineData("proxy:\n  upstreams:\n    - prefix: hub\n      remoteurl: http://a:5000\n      ttl: 1x\n", "proxy.upstreams[0].ttl")] // not a duration
    public void Load_BadProxyKey_StopsNamingTheKey(string yaml, string key)
    {
        string path = _dir.Combine($"config-{Guid.NewGuid():N}.yml");
        File.WriteAllText(path, "version: 0.1\n" + yaml);
        var ex = Assert.Throws<RegistryConfigurationException>(() => RegistryConfigLoader.Load(path, NoEnvironment, "/unused"));
        Assert.Equal(key, ex.Key);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("hub", "hub/library/busybox", "library/busybox")]
    [InlineData("hub", "hub/x", "x")]
    [InlineData("hub", "hub", null)] // the prefix alone names no upstream repository
    [InlineData("hub", "hubby/x", null)] // a prefix matches whole path components only
    [InlineData("hub", "other/hub/x", null)]
    [InlineData("", "library/busybox", "library/busybox")] // proxy.remoteurl mirrors every name as is
    public void RemoteName_StripsThePrefix(string prefix, string name, string? expected)
    {
        var upstream = new ProxyUpstream { Prefix = prefix, RemoteUrl = new Uri("http://127.0.0.1:5000") };
        Assert.Equal(expected, upstream.RemoteName(name));
    }
}
