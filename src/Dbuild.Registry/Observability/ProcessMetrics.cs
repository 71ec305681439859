using System.Diagnostics;

namespace Dbuild.Registry.Observability;

/// <summary>The Prometheus client libraries' standard <c>process_*</c> metrics, read at scrape time.</summary>
internal static class ProcessMetrics
{
    private static readonly double StartTimeSeconds = Process.GetCurrentProcess().StartTime.ToUniversalTime().Subtract(DateTime.UnixEpoch).TotalSeconds;

    public static void Write(PrometheusText text)
    {
        text.Header("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
        text.Sample("process_cpu_seconds_total", "", Environment.CpuUsage.TotalTime.TotalSeconds);
        text.Header("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        text.Sample("process_resident_memory_bytes", "", Environment.WorkingSet);
        text.Header("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
        text.Sample("process_start_time_seconds", "", StartTimeSeconds);
        if (OperatingSystem.IsLinux() && Directory.Exists("/proc/self/fd"))
        {
            text.Header("process_open_fds", "gauge", "Number of open file descriptors.");
            text.Sample("process_open_fds", "", Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount());
        }
        text.Header("dotnet_gc_heap_size_bytes", "gauge", "Bytes of the managed heap in use after the last collection.");
        text.Sample("dotnet_gc_heap_size_bytes", "", GC.GetGCMemoryInfo().HeapSizeBytes);
        text.Header("dotnet_threadpool_threads", "gauge", "Thread pool threads.");
        text.Sample("dotnet_threadpool_threads", "", ThreadPool.ThreadCount);
    }
}
