using Dbuild.Registry.Auth;
using Dbuild.Registry.Auth.Rules;
using Dbuild.Registry.Configuration;
using Dbuild.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Dbuild.Registry.Tests.Rules;

/// <summary>Loading at startup through <see cref="AccessRulesFactory"/>, and reloading when the file changes.</summary>
public sealed class AccessRulesFileTests : IDisposable
{
    private const string PullOnly = "- {account: alice, name: \"**\", actions: [pull]}\n";
    private const string PullPush = "- {account: alice, name: \"**\", actions: [pull, push]}\n";
    private static readonly string[] Push = ["push"];

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger<AccessRulesFile> _logger = new();
    private readonly string _path;
    private DateTime _writeTime = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public AccessRulesFileTests() => _path = _dir.Combine("acl.yml");

    public void Dispose() => _dir.Dispose();

    // Every write gets a later write time: two writes within one tick of the file system clock must still differ.
    private void Write(string yaml)
    {
        File.WriteAllText(_path, yaml);
        _writeTime = _writeTime.AddSeconds(1);
        File.SetLastWriteTimeUtc(_path, _writeTime);
    }

    private AccessRulesFile Load() => AccessRulesFile.Load(_path, _time, _logger);

    private static bool MayPush(AccessRulesFile rules) => rules.Grant("alice", "app", Push).Count == 1;

    [Fact]
    public void ChangedFile_TakesEffectOnceASecondHasPassed()
    {
        Write(PullOnly);
        AccessRulesFile rules = Load();
        Assert.False(MayPush(rules));
        Write(PullPush);
        _time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.False(MayPush(rules)); // not looked at yet: at most one look a second
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(MayPush(rules));
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 6032 && r.Message.Contains(_path, StringComparison.Ordinal));
    }

    [Fact]
    public void UnchangedFile_IsNotReadAgain()
    {
        Write(PullOnly);
        AccessRulesFile rules = Load();
        AccessRuleSet first = rules.Current();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Same(first, rules.Current());
    }

    [Fact]
    public void BrokenChange_KeepsThePreviousRules_AndLogsTheLineOnce()
    {
        Write(PullPush);
        AccessRulesFile rules = Load();
        Write("- {account: alice, name: \"**\", actions: [pull, pusj]}\n");
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(MayPush(rules));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(MayPush(rules));
        FakeLogRecord error = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.Contains($"{_path}:1:48: unknown action 'pusj'", error.Message, StringComparison.Ordinal);

        Write(PullOnly); // fixed: the new rules apply
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(MayPush(rules));
    }

    [Fact]
    public void BrokenChange_NeverOpensAccessUp()
    {
        Write("rules: []\n");
        AccessRulesFile rules = Load();
        Write("- {account: \"*\", name: \"**\", actions: [pu"); // half written
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(rules.Grant("alice", "app", ["pull"]));
        Write("- {account: \"*\", name: \"**\", actions: [pull, pusj]}\n"); // valid YAML, one bad action: no rule of it applies
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(rules.Grant("alice", "app", ["pull"]));
        Assert.Equal(2, _logger.Collector.GetSnapshot().Count(r => r.Level == LogLevel.Error));
    }

    [Fact]
    public void DeletedFile_KeepsThePreviousRules()
    {
        Write(PullPush);
        AccessRulesFile rules = Load();
        File.Delete(_path);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(MayPush(rules));
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error && r.Message.Contains("gone", StringComparison.Ordinal));
    }

    [Fact]
    public void Factory_NoPath_SignedInMayDoAnything()
    {
        IAccessRules rules = AccessRulesFactory.Create(null, _time, NullLoggerFactory.Instance);
        Assert.IsType<SignedInMayDoAnything>(rules);
    }

    [Fact]
    public void Factory_Path_GivesTheFilesRules()
    {
        Write(PullOnly);
        IAccessRules rules = AccessRulesFactory.Create(_path, _time, NullLoggerFactory.Instance);
        Assert.Equal(["pull"], rules.Grant("alice", "app", ["pull", "push"]));
        Assert.Empty(rules.Grant("bob", "app", ["pull"]));
    }

    [Fact]
    public void Factory_MalformedFile_StopsStartupWithOneLineNamingKeyAndPlace()
    {
        Write("rules:\n  - account: alice\n    name: a/**\n    actions: [pull, pul]\n");
        var ex = Assert.Throws<RegistryConfigurationException>(() => AccessRulesFactory.Create(_path, _time, NullLoggerFactory.Instance));
        Assert.Equal("auth.token.builtin.acl", ex.Key);
        Assert.StartsWith($"Invalid registry configuration: auth.token.builtin.acl: {_path}:4:21: unknown action 'pul'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void ConfigLoad_MalformedRulesFile_StopsWithTheLine()
    {
        Write("rules:\n  - account: alice\n    name: Team/**\n    actions: [pull]\n");
        string htpasswd = _dir.Combine("htpasswd");
        File.WriteAllText(htpasswd, "");
        string config = _dir.Combine("config.yml");
        File.WriteAllText(config, $"version: 0.1\nauth:\n  token:\n    builtin:\n      htpasswd: {htpasswd}\n      acl: {_path}\n");
        var ex = Assert.Throws<RegistryConfigurationException>(() => RegistryConfigLoader.Load(config, new Dictionary<string, string>(), "/unused"));
        Assert.Equal($"Invalid registry configuration: auth.token.builtin.acl: {_path}:3:11: 'Team/**': repository names are lower case", ex.Message);
    }

    [Fact]
    public void Factory_MissingFile_StopsStartupNamingTheKey()
    {
        var ex = Assert.Throws<RegistryConfigurationException>(() => AccessRulesFactory.Create(_path, _time, NullLoggerFactory.Instance));
        Assert.Equal("auth.token.builtin.acl", ex.Key);
        Assert.Contains($"'{_path}' does not exist", ex.Message, StringComparison.Ordinal);
    }
}
