using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Auth.Rules;

/// <summary>
/// The rules of a file, re-read when it changes: a question looks at the file at most once a second (its size and
/// write time, as <see cref="HtpasswdAuthenticator"/> does), so every replica follows its own copy without a restart.
/// A change that does not parse is logged and the previous rules stay in force: a broken edit never opens access up.
/// </summary>
internal sealed partial class AccessRulesFile : IAccessRules
{
    private readonly string _path;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private volatile AccessRuleSet _rules;
    private Stamp _loaded;
    private Stamp _failed;
    private long _nextCheck;

    private AccessRulesFile(string path, AccessRuleSet rules, Stamp loaded, TimeProvider timeProvider, ILogger logger)
    {
        (_path, _rules, _loaded, _timeProvider, _logger) = (path, rules, loaded, timeProvider, logger);
        _nextCheck = timeProvider.GetTimestamp() + timeProvider.TimestampFrequency;
    }

    /// <summary>Reads and parses <paramref name="path"/>; an unreadable or malformed file throws (startup stops).</summary>
    public static AccessRulesFile Load(string path, TimeProvider timeProvider, ILogger logger)
    {
        Stamp stamp = Stamp.Of(path);
        if (!stamp.Exists) { throw new FileNotFoundException($"file '{path}' does not exist", path); }
        AccessRuleSet rules = AccessRulesParser.Parse(path, File.ReadAllText(path));
        LogLoaded(logger, path, rules.Count);
        return new AccessRulesFile(path, rules, stamp, timeProvider, logger);
    }

    public IReadOnlySet<string> Grant(string? account, string repository, IReadOnlyCollection<string> requested) =>
        Current().Grant(account, repository, requested);

    public bool MayListCatalog(string? account) => Current().MayListCatalog(account);

    /// <summary>The rules in force, after a reload if the file changed and a second has passed since the last look.</summary>
    internal AccessRuleSet Current()
    {
        long now = _timeProvider.GetTimestamp();
        if (now < Volatile.Read(ref _nextCheck) || !_gate.TryEnter()) { return _rules; } // whoever holds the gate is reloading
        try
        {
            if (now >= _nextCheck)
            {
                Refresh();
                Volatile.Write(ref _nextCheck, now + _timeProvider.TimestampFrequency);
            }
        }
        finally { _gate.Exit(); }
        return _rules;
    }

    private void Refresh()
    {
        Stamp stamp = Stamp.Of(_path);
        if (stamp == _loaded || stamp == _failed) { return; } // unchanged, or the broken version already reported
        try
        {
            if (!stamp.Exists) { throw new FileNotFoundException($"{_path}: the file is gone", _path); }
            AccessRuleSet rules = AccessRulesParser.Parse(_path, File.ReadAllText(_path));
            (_rules, _loaded, _failed) = (rules, stamp, default);
            LogReloaded(_logger, _path, rules.Count);
        }
        catch (Exception ex) when (ex is AccessRulesSyntaxException or IOException or UnauthorizedAccessException)
        {
            _failed = stamp;
            LogReloadFailed(_logger, ex.Message);
        }
    }

    [LoggerMessage(6031, LogLevel.Information, "Access rules loaded from {Path}: {Count} rule(s)")]
    private static partial void LogLoaded(ILogger logger, string path, int count);

    [LoggerMessage(6032, LogLevel.Information, "Access rules reloaded from {Path}: {Count} rule(s)")]
    private static partial void LogReloaded(ILogger logger, string path, int count);

    [LoggerMessage(6033, LogLevel.Error, "Access rules not reloaded, the previous rules stay in force: {Problem}")]
    private static partial void LogReloadFailed(ILogger logger, string problem);

    /// <summary>What tells a changed file from the loaded one without reading it.</summary>
    private readonly record struct Stamp(bool Exists, DateTime WriteTime, long Length)
    {
        public static Stamp Of(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? new Stamp(true, info.LastWriteTimeUtc, info.Length) : new Stamp(false, default, -1);
        }
    }
}
