using System.Globalization;
using Dbuild.Registry.Client;

namespace Dbuild.Cli;

/// <summary>
/// The registry client's timeouts and retries, from the environment (README "Registry timeouts and retries"):
/// <c>DBUILD_REGISTRY_CONNECT_TIMEOUT</c> (30s), <c>DBUILD_REGISTRY_TIMEOUT</c> (60s without progress: no response
/// headers, or no body bytes), <c>DBUILD_REGISTRY_MAX_ATTEMPTS</c> (4), <c>DBUILD_REGISTRY_RETRY_DELAY</c> (200ms, doubled
/// per attempt with jitter) and <c>DBUILD_REGISTRY_MAX_RETRY_AFTER</c> (60s). Durations are Go's (<c>500ms</c>, <c>30s</c>,
/// <c>2m</c>) or plain seconds; <c>0</c> turns a timeout off.
/// </summary>
internal static class RegistryResilienceSettings
{
    public static TimeSpan ConnectTimeout => Timeout("DBUILD_REGISTRY_CONNECT_TIMEOUT", TimeSpan.FromSeconds(30));

    /// <summary><paramref name="options"/> with the timeouts and retries the environment asks for.</summary>
    public static RegistryClientOptions Apply(RegistryClientOptions options) => options with
    {
        ReadTimeout = Timeout("DBUILD_REGISTRY_TIMEOUT", options.ReadTimeout),
        MaxAttempts = Attempts("DBUILD_REGISTRY_MAX_ATTEMPTS", options.MaxAttempts),
        RetryDelay = Duration("DBUILD_REGISTRY_RETRY_DELAY", options.RetryDelay),
        MaxRetryAfter = Duration("DBUILD_REGISTRY_MAX_RETRY_AFTER", options.MaxRetryAfter),
    };

    private static TimeSpan Timeout(string name, TimeSpan fallback)
    {
        TimeSpan span = Duration(name, fallback);
        return span == TimeSpan.Zero ? System.Threading.Timeout.InfiniteTimeSpan : span;
    }

    private static int Attempts(string name, int fallback)
    {
        if (Environment.GetEnvironmentVariable(name) is not { Length: > 0 } value) { return fallback; }
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int attempts) && attempts is >= 1 and <= 100 ? attempts
            : throw new UsageException($"{name}={value}: give a number of attempts from 1 to 100.");
    }

    internal static TimeSpan Duration(string name, TimeSpan fallback)
    {
        if (Environment.GetEnvironmentVariable(name) is not { Length: > 0 } value) { return fallback; }
        return TryParseDuration(value, out TimeSpan span) ? span
            : throw new UsageException($"{name}={value}: not a duration; give e.g. 30s, 500ms, 2m or a number of seconds.");
    }

    /// <summary>Go's duration units that make sense here (ms, s, m, h), or a plain number of seconds; never negative, at most a day.</summary>
    internal static bool TryParseDuration(string value, out TimeSpan span)
    {
        span = default;
        (string number, double unit) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.Ordinal) => (value[..^2], 0.001),
            _ when value.EndsWith('s') => (value[..^1], 1),
            _ when value.EndsWith('m') => (value[..^1], 60),
            _ when value.EndsWith('h') => (value[..^1], 3600),
            _ => (value, 1),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount)) { return false; }
        double seconds = amount * unit;
        if (seconds > 86_400) { return false; }
        span = TimeSpan.FromSeconds(seconds);
        return true;
    }
}
