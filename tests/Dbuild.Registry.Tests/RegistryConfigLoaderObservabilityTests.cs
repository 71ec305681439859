using Dbuild.Registry.Configuration;

namespace Dbuild.Registry.Tests;

/// <summary>registry:2's <c>http.debug.*</c> and <c>health.storagedriver.*</c> keys.</summary>
public sealed class RegistryConfigLoaderObservabilityTests
{
    /// <summary>Loads <paramref name="yaml"/> from a file, with no <c>REGISTRY_*</c> variables.</summary>
    private static RegistryOptions Load(string yaml, Action<string>? warn = null)
    {
        using var dir = new Dbuild.Testing.TempDirectory();
        string path = dir.Combine("config.yml");
        File.WriteAllText(path, yaml);
        return RegistryConfigLoader.Load(path, new Dictionary<string, string>(), "/data", warn);
    }

    [Fact]
    public void Load_DebugAndHealthKeys_FillTheOptions()
    {
        var warnings = new List<string>();
        RegistryOptions options = Load("""
            version: 0.1
            http:
              addr: 127.0.0.1:5000
              debug:
                addr: 127.0.0.1:5001
                prometheus:
                  enabled: true
                  path: /prom
            health:
              storagedriver:
                enabled: true
                interval: 3s
                threshold: 4
            """, warnings.Add);
        Assert.Empty(warnings);
        Assert.Equal("127.0.0.1:5001", options.DebugAddress);
        Assert.True(options.PrometheusEnabled);
        Assert.Equal("/prom", options.PrometheusPath);
        Assert.True(options.HealthStorageDriverEnabled);
        Assert.Equal(TimeSpan.FromSeconds(3), options.HealthStorageDriverInterval);
        Assert.Equal(4, options.HealthStorageDriverThreshold);
    }

    [Fact]
    public void Load_Defaults_AreRegistry2s()
    {
        RegistryOptions options = RegistryConfigLoader.Load(null, new Dictionary<string, string>(), "/data");
        Assert.Null(options.DebugAddress);
        Assert.False(options.PrometheusEnabled);
        Assert.Equal("/metrics", options.PrometheusPath);
        Assert.False(options.HealthStorageDriverEnabled);
        Assert.Equal(TimeSpan.FromSeconds(10), options.HealthStorageDriverInterval);
    }

    [Fact]
    public void Load_EnvironmentVariables_OverrideTheKeys()
    {
        var environment = new Dictionary<string, string>
        {
            ["REGISTRY_HTTP_DEBUG_ADDR"] = ":5101",
            ["REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED"] = "true",
            ["REGISTRY_HEALTH_STORAGEDRIVER_ENABLED"] = "true",
        };
        RegistryOptions options = RegistryConfigLoader.Load(null, environment, "/data");
        Assert.Equal(":5101", options.DebugAddress);
        Assert.True(options.PrometheusEnabled);
        Assert.True(options.HealthStorageDriverEnabled);
    }

    [Theory]
    [InlineData("http:\n  debug:\n    addr: nowhere\n", "http.debug.addr")] // no port
    [InlineData("http:\n  addr: :5000\n  debug:\n    addr: 127.0.0.1:5000\n", "http.debug.addr")] // the main port
    [InlineData("http:\n  debug:\n    addr: :0\n", "http.debug.addr")] // no fixed port
    [InlineData("http:\n  debug:\n    prometheus:\n      enabled: sure\n", "http.debug.prometheus.enabled")] // not a boolean
    [InlineData("http:\n  debug:\n    prometheus:\n      path: metrics\n", "http.debug.prometheus.path")] // not absolute
    [InlineData("health:\n  storagedriver:\n    interval: often\n", "health.storagedriver.interval")] // not a duration
    [InlineData("health:\n  storagedriver:\n    enabled: true\n    interval: 0s\n", "health.storagedriver.interval")] // not positive
    [InlineData("health:\n  storagedriver:\n    threshold: -1\n", "health.storagedriver.threshold")] // negative
    public void Load_InvalidValue_NamesTheKey(string yaml, string key)
    {
        var ex = Assert.Throws<RegistryConfigurationException>(() => Load("version: 0.1\n" + yaml));
        Assert.Equal(key, ex.Key);
    }
}
