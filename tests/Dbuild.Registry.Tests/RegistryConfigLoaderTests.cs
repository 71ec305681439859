using Dbuild.Registry.Configuration;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Tests;

public sealed class RegistryConfigLoaderTests : IDisposable
{
    private readonly Dbuild.Testing.TempDirectory _dir = new();
    private static readonly Dictionary<string, string> NoEnvironment = [];

    public void Dispose() => _dir.Dispose();

    private string Write(string yaml)
    {
        string path = _dir.Combine($"config-{Guid.NewGuid():N}.yml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void Load_NoFile_ServesPort5000FromTheDefaultRoot()
    {
        RegistryOptions options = RegistryConfigLoader.Load(null, NoEnvironment, "/srv/default");
        Assert.Equal(":5000", options.Address);
        Assert.Equal("/srv/default", options.StorageRoot);
        Assert.False(options.DeleteEnabled);
        Assert.True(options.UploadPurgingEnabled);
        Assert.Equal(TimeSpan.FromHours(168), options.UploadPurgingAge);
        Assert.Null(options.HtpasswdPath);
    }

    [Fact]
    public void Load_Registry2Keys_FillEveryOption()
    {
        string htpasswd = _dir.Combine("htpasswd");
        File.WriteAllText(htpasswd, "");
        string path = Write($"""
            version: 0.1
            log:
              level: debug
            storage:
              filesystem:
                rootdirectory: /data
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: true
                  age: 2h
                  interval: 30m
                  dryrun: false
                readonly:
                  enabled: true
            http:
              addr: 127.0.0.1:5001
            auth:
              htpasswd:
                realm: my-realm
                path: {htpasswd}
            """);
        RegistryOptions options = RegistryConfigLoader.Load(path, NoEnvironment, "/unused");
        Assert.Equal(LogLevel.Debug, options.LogLevel);
        Assert.Equal("/data", options.StorageRoot);
        Assert.True(options.DeleteEnabled);
        Assert.Equal(TimeSpan.FromHours(2), options.UploadPurgingAge);
        Assert.Equal(TimeSpan.FromMinutes(30), options.UploadPurgingInterval);
        Assert.True(options.ReadOnly);
        Assert.Equal("127.0.0.1:5001", options.Address);
        Assert.Equal("my-realm", options.HtpasswdRealm);
        Assert.Equal(htpasswd, options.HtpasswdPath);
    }

    [Fact]
    public void Load_EnvironmentVariable_OverridesTheFile()
    {
        string path = Write("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /from-file\n");
        var environment = new Dictionary<string, string>
        {
            ["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"] = "/from-env",
            ["REGISTRY_HTTP_ADDR"] = ":6000",
            ["REGISTRY_STORAGE_DELETE_ENABLED"] = "true",
            ["REGISTRY_STORAGE_MAINTENANCE_READONLY"] = "true", // the map given as a bare value
            ["REGISTRY_HTTP_SECRET"] = "ignored", // a registry:2 key dbuild does not use
        };
        RegistryOptions options = RegistryConfigLoader.Load(path, environment, "/unused");
        Assert.Equal("/from-env", options.StorageRoot);
        Assert.Equal(":6000", options.Address);
        Assert.True(options.DeleteEnabled);
        Assert.True(options.ReadOnly);
    }

    [Theory]
    [InlineData("version: 0.1\nstorage:\n  maintenance:\n    uploadpurging:\n      age: soon\n", "storage.maintenance.uploadpurging.age")] // not a duration
    [InlineData("version: 0.1\nstorage:\n  delete:\n    enabled: maybe\n", "storage.delete.enabled")] // not a boolean
    [InlineData("version: 0.1\nhttp:\n  addr: localhost\n", "http.addr")] // no port
    [InlineData("version: 0.1\nlog:\n  level: loud\n", "log.level")] // unknown level
    [InlineData("version: 0.2\n", "version")] // unsupported version
    [InlineData("log:\n  level: info\n", "version")] // version missing
    [InlineData("version: 0.1\nhttp:\n  tls:\n    certificate: /nonexistent.pem\n", "http.tls.certificate")] // missing file
    [InlineData("version: 0.1\nauth:\n  htpasswd:\n    realm: r\n    path: /nonexistent\n", "auth.htpasswd.path")] // missing file
    [InlineData("version: 0.1\nauth:\n  silly:\n    realm: r\n", "auth.silly")] // unsupported auth
    [InlineData("version: 0.1\nstorage:\n  s3:\n    bucket: b\n", "storage.s3")] // unsupported driver
    [InlineData("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ''\n", "storage.filesystem.rootdirectory")] // empty
    public void Load_InvalidValue_NamesTheKey(string yaml, string key)
    {
        var ex = Assert.Throws<RegistryConfigurationException>(() => RegistryConfigLoader.Load(Write(yaml), NoEnvironment, "/unused"));
        Assert.Equal(key, ex.Key);
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TlsKeyWithoutCertificate_NamesTheCertificateKey()
    {
        string key = _dir.Combine("key.pem");
        File.WriteAllText(key, "");
        var ex = Assert.Throws<RegistryConfigurationException>(() =>
            RegistryConfigLoader.Load(Write($"version: 0.1\nhttp:\n  tls:\n    key: {key}\n"), NoEnvironment, "/unused"));
        Assert.Equal("http.tls.certificate", ex.Key);
    }

    [Fact]
    public void Load_InvalidYaml_NamesTheFile()
    {
        string path = Write("version: 0.1\nstorage: [unclosed\n");
        var ex = Assert.Throws<RegistryConfigurationException>(() => RegistryConfigLoader.Load(path, NoEnvironment, "/unused"));
        Assert.Equal(path, ex.Key);
    }

    [Fact]
    public void Load_UnknownKey_WarnsAndContinues()
    {
        var warnings = new List<string>();
        string path = Write("version: 0.1\nhttp:\n  addr: :5000\n  headers:\n    X-Content-Type-Options: [nosniff]\nredis:\n  addr: localhost:6379\n");
        RegistryConfigLoader.Load(path, NoEnvironment, "/unused", warnings.Add);
        Assert.Contains(warnings, w => w.Contains("'http.headers.X-Content-Type-Options'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'redis.addr'", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_DebianDefaultConfig_Loads()
    {
        // /etc/docker/registry/config.yml as shipped by Debian's docker-registry, with paths made local.
        string htpasswd = _dir.Combine("htpasswd");
        File.WriteAllText(htpasswd, "");
        var warnings = new List<string>();
        string path = Write($"""
            version: 0.1
            log:
              fields:
                service: registry
            storage:
              cache:
                blobdescriptor: inmemory
              filesystem:
                rootdirectory: /var/lib/docker-registry
              delete:
                enabled: true
            http:
              addr: :5000
              headers:
                X-Content-Type-Options: [nosniff]
            auth:
              htpasswd:
                realm: basic-realm
                path: {htpasswd}
            health:
              storagedriver:
                enabled: true
                interval: 10s
                threshold: 3
            """);
        RegistryOptions options = RegistryConfigLoader.Load(path, NoEnvironment, "/unused", warnings.Add);
        Assert.Equal("/var/lib/docker-registry", options.StorageRoot);
        Assert.Equal("basic-realm", options.HtpasswdRealm);
        Assert.NotEmpty(warnings);
    }

    [Theory]
    [InlineData("168h", 168 * 60)]
    [InlineData("1h30m", 90)]
    [InlineData("90m", 90)]
    [InlineData("0", 0)]
    [InlineData("1.5h", 90)]
    public void GoDuration_TryParse_ReadsGoSyntax(string text, int minutes)
    {
        Assert.True(GoDuration.TryParse(text, out TimeSpan value));
        Assert.Equal(TimeSpan.FromMinutes(minutes), value);
    }

    [Theory]
    [InlineData("")] // empty
    [InlineData("10")] // no unit
    [InlineData("10d")] // days are not a Go unit
    [InlineData("h")] // no number
    public void GoDuration_TryParse_RejectsOtherText(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Fact]
    public void Load_GcKeys_FillTheGcOptions()
    {
        string path = Write("""
            version: 0.1
            storage:
              filesystem:
                rootdirectory: /data
              maintenance:
                gc:
                  enabled: true
                  interval: 10m
                  grace: 2h
                  untagged: delete
            """);
        RegistryOptions options = RegistryConfigLoader.Load(path, NoEnvironment, "/unused");
        Assert.Equal((true, TimeSpan.FromMinutes(10), TimeSpan.FromHours(2), true),
            (options.GcEnabled, options.GcInterval, options.GcGrace, options.GcDeleteUntagged));
    }

    [Fact]
    public void Load_GcDefaults_OffWithAnHourOfGraceKeepingUntagged()
    {
        RegistryOptions options = RegistryConfigLoader.Load(null, NoEnvironment, "/srv");
        Assert.Equal((false, TimeSpan.FromHours(1), false), (options.GcEnabled, options.GcGrace, options.GcDeleteUntagged));
    }

    [Theory]
    [InlineData("untagged: purge", "storage.maintenance.gc.untagged")] // only keep or delete
    [InlineData("grace: 0s", "storage.maintenance.gc.grace")] // no grace would let GC race every push
    public void Load_BadGcValue_NamesTheKey(string line, string key)
    {
        string path = Write($"""
            version: 0.1
            storage:
              filesystem:
                rootdirectory: /data
              maintenance:
                gc:
                  enabled: true
                  {line}
            """);
        var ex = Assert.Throws<RegistryConfigurationException>(() => RegistryConfigLoader.Load(path, NoEnvironment, "/unused"));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }
}
