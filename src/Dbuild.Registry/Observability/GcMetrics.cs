using Dbuild.Registry.Gc;

namespace Dbuild.Registry.Observability;

/// <summary>
/// Online garbage collection passes (<c>storage.maintenance.gc</c>) and what they freed, from each pass's
/// <see cref="GcSummary"/>; dry runs count as runs but free nothing.
/// </summary>
internal sealed class GcMetrics
{
    private const int Succeeded = 0, Failed = 1;
    private readonly CounterSeries _runs = new(2);
    private readonly CounterSeries _blobs = new(1);
    private readonly CounterSeries _bytes = new(1);
    private readonly CounterSeries _manifests = new(1);
    private readonly CounterSeries _links = new(1);
    private readonly CounterSeries _uploads = new(1);
    private readonly CounterSeries _retention = new(1);
    private double _lastDurationSeconds;
    private double _lastSuccessUnixSeconds;

    public void PassDone(GcSummary summary, DateTimeOffset finished)
    {
        ArgumentNullException.ThrowIfNull(summary);
        _runs.Add(Succeeded);
        if (!summary.DryRun)
        {
            _blobs.Add(0, summary.BlobsSwept);
            _bytes.Add(0, summary.BytesFreed);
            _manifests.Add(0, summary.ManifestsSwept);
            _links.Add(0, summary.LinksSwept);
            _uploads.Add(0, summary.UploadsSwept);
            _retention.Add(0, summary.TagsRemoved);
        }
        Volatile.Write(ref _lastDurationSeconds, summary.Duration.TotalSeconds);
        Volatile.Write(ref _lastSuccessUnixSeconds, finished.ToUnixTimeMilliseconds() / 1000d);
    }

    public void PassFailed() => _runs.Add(Failed);

    public void Write(PrometheusText text)
    {
        text.Header("registry_gc_runs_total", "counter", "Online garbage collection passes, by result.");
        text.Sample("registry_gc_runs_total", "result=\"success\"", _runs[Succeeded]);
        text.Sample("registry_gc_runs_total", "result=\"failure\"", _runs[Failed]);
        Counter(text, "registry_gc_blobs_deleted_total", "Blobs deleted by garbage collection.", _blobs);
        Counter(text, "registry_gc_freed_bytes_total", "Bytes of blobs deleted by garbage collection.", _bytes);
        Counter(text, "registry_gc_manifests_deleted_total", "Untagged manifests deleted by garbage collection.", _manifests);
        Counter(text, "registry_gc_layer_links_deleted_total", "Repository layer links deleted by garbage collection.", _links);
        Counter(text, "registry_gc_uploads_deleted_total", "Abandoned uploads deleted by garbage collection.", _uploads);
        Counter(text, "registry_gc_retention_tags_deleted_total", "Tags removed by policies.retention before a pass's mark.", _retention);
        text.Header("registry_gc_last_duration_seconds", "gauge", "How long the last successful pass took.");
        text.Sample("registry_gc_last_duration_seconds", "", Volatile.Read(ref _lastDurationSeconds));
        text.Header("registry_gc_last_success_timestamp_seconds", "gauge", "When the last successful pass ended (Unix time; 0: none yet).");
        text.Sample("registry_gc_last_success_timestamp_seconds", "", Volatile.Read(ref _lastSuccessUnixSeconds));
    }

    private static void Counter(PrometheusText text, string name, string help, CounterSeries counter)
    {
        text.Header(name, "counter", help);
        text.Sample(name, "", counter[0]);
    }
}
