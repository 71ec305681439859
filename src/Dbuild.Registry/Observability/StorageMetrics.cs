using System.Diagnostics;

namespace Dbuild.Registry.Observability;

/// <summary>
/// Storage driver latency by operation as registry:2 names it (<c>registry_storage_action_seconds{action,driver}</c>),
/// plus <c>registry_storage_errors_total</c> (failed operations; a cancelled request is not a storage error).
/// </summary>
internal sealed class StorageMetrics
{
    /// <summary>registry:2's storage buckets.</summary>
    private static readonly double[] Bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly string[] Actions = Enum.GetNames<StorageAction>();
    private readonly HistogramSeries _latency = new(Actions.Length, Bounds, Stopwatch.Frequency);
    private readonly CounterSeries _errors = new(Actions.Length);
    private string _driver = "";

    /// <summary>The measured driver's name (<c>filesystem</c>, <c>azure</c>), set when the decorator is made.</summary>
    public string Driver { get => Volatile.Read(ref _driver); set => Volatile.Write(ref _driver, value); }

    public void Observe(StorageAction action, long startedTimestamp) => _latency.Observe((int)action, Stopwatch.GetTimestamp() - startedTimestamp);

    /// <summary>Counts a failure; returns false so it can sit in an exception filter without catching.</summary>
    public bool Failed(StorageAction action, Exception exception)
    {
        if (exception is not OperationCanceledException) { _errors.Add((int)action); }
        return false;
    }

    public long Operations(StorageAction action) => _latency.CountOf((int)action);

    public long Errors(StorageAction action) => _errors[(int)action];

    public void Write(PrometheusText text)
    {
        string driver = Driver;
        if (driver.Length == 0) { return; } // metrics are off: the driver was not decorated
        text.Header("registry_storage_action_seconds", "histogram", "The number of seconds that the storage action takes");
        for (int a = 0; a < Actions.Length; a++) { _latency.Write(text, "registry_storage_action_seconds", a, $"action=\"{Actions[a]}\",driver=\"{driver}\""); }
        text.Header("registry_storage_errors_total", "counter", "Storage driver operations that failed, by action.");
        for (int a = 0; a < Actions.Length; a++) { text.Sample("registry_storage_errors_total", $"action=\"{Actions[a]}\",driver=\"{driver}\"", _errors[a]); }
    }
}
