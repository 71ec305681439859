using System.Net;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// <c>dbuild registry serve</c> with registry:2's debug server (<c>http.debug.addr</c>, <c>http.debug.prometheus</c>):
/// real clients push and pull, Debian's <c>promtool check metrics</c> parses and lints the scrape, and the counters
/// moved by what was done; an online GC pass shows up in the GC metrics.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryMetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>registry:2's debug server on <paramref name="debugPort"/> with metrics on: lines under <c>http:</c>.</summary>
    internal static string DebugHttp(int debugPort) => $"  debug:\n    addr: 127.0.0.1:{debugPort}\n    prometheus:\n      enabled: true";

    /// <summary>
    /// Starts dbuild on the filesystem under <paramref name="work"/> with the debug server; <paramref name="environment"/>
    /// adds registry:2 variables (keys under <c>storage:</c> cannot be appended to the shared config).
    /// </summary>
    internal static async Task<(RegistryServer Registry, int DebugPort)> StartAsync(TempDirectory work, string extra = "",
        IReadOnlyDictionary<string, string>? environment = null)
    {
        int port = RegistryServer.FreePort(), debugPort = RegistryServer.FreePort();
        string root = work.Combine("holder", "root");
        Directory.CreateDirectory(root);
        string config = RegistryServer.WriteConfig(work.Path, root, port, DebugHttp(debugPort), extra);
        RegistryServer registry = await RegistryServer.StartDbuildAsync(["registry", "serve", "--config", config],
            environment ?? new Dictionary<string, string>(), port, root, Ct);
        return (registry, debugPort);
    }

    /// <summary>Scrapes the debug server and runs <c>promtool check metrics</c> on the text (it must pass).</summary>
    internal static async Task<(string Text, Dictionary<string, double> Samples)> ScrapeAndCheckAsync(HttpClient client, int debugPort, string work)
    {
        using HttpResponseMessage response = await client.GetAsync($"http://127.0.0.1:{debugPort}/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        string text = await response.Content.ReadAsStringAsync(Ct);
        string promtool = Prerequisites.RequireTool("promtool", "prometheus");
        ProcessResult check = await ProcessRunner.RunAsync(promtool, ["check", "metrics"], Ct, standardInput: text);
        if (check.ExitCode != 0) { File.WriteAllText(Path.Combine(work, "scrape.txt"), text); }
        Assert.True(check.ExitCode == 0, $"promtool check metrics exited {check.ExitCode}: {check.StandardOutput}{check.StandardError}");
        return (text, PrometheusSamples.Parse(text));
    }

    [Fact]
    public async Task SkopeoPushAndPull_ScrapePassesPromtool_AndCountsRequestsBytesUploadsAndStorage()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        (RegistryServer started, int debugPort) = await StartAsync(work);
        await using RegistryServer registry = started;
        using var client = new HttpClient();

        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/library/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{registry.Host}/library/busybox:1", $"oci:{work.Combine("back")}:copy");
        long layerBytes = Directory.EnumerateFiles(Path.Combine(busybox, "blobs", "sha256")).Max(f => new FileInfo(f).Length);
        using (HttpResponseMessage main = await client.GetAsync($"{registry.BaseUrl}/metrics", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, main.StatusCode); // metrics are on the debug address only, as in registry:2
        }

        (_, Dictionary<string, double> samples) = await ScrapeAndCheckAsync(client, debugPort, work.Path);
        double sessions = samples.ValueOrZero("registry_upload_sessions_started_total");
        Assert.True(sessions >= 2, $"a layer and a config were uploaded, but {sessions} upload sessions started");
        Assert.Equal(sessions, samples.ValueOrZero("registry_upload_sessions_completed_total"));
        Assert.Equal(0, samples.ValueOrZero("registry_upload_sessions_cancelled_total"));
        Assert.Equal(1, samples.ValueOrZero("registry_http_requests_total{code=\"201\",handler=\"manifest\",method=\"put\"}"));
        Assert.True(samples.ValueOrZero("registry_http_requests_total{code=\"200\",handler=\"manifest\",method=\"get\"}") >= 1);
        Assert.True(samples.ValueOrZero("registry_http_requests_total{code=\"200\",handler=\"blob\",method=\"get\"}") >= 2);
        Assert.True(samples.ValueOrZero("registry_http_requests_total{code=\"200\",handler=\"base\",method=\"get\"}") >= 1);
        Assert.True(samples.ValueOrZero("registry_http_request_size_bytes_sum{handler=\"blob_upload_chunk\"}")
            + samples.ValueOrZero("registry_http_request_size_bytes_sum{handler=\"blob_upload\"}") >= layerBytes, "bytes in: the pushed layer");
        Assert.True(samples.ValueOrZero("registry_http_response_size_bytes_sum{handler=\"blob\"}") >= layerBytes, "bytes out: the pulled layer");
        Assert.True(samples.ValueOrZero("registry_http_request_duration_seconds_count{handler=\"blob\",method=\"get\"}") >= 2);
        Assert.True(samples.ValueOrZero("registry_storage_action_seconds_count{action=\"Stage\",driver=\"filesystem\"}") >= 2);
        // Filesystem blob GETs are sent from the local file (sendfile), so they stat rather than open through the driver.
        Assert.True(samples.ValueOrZero("registry_storage_action_seconds_count{action=\"Stat\",driver=\"filesystem\"}") >= 2);
        Assert.True(samples.ValueOrZero("registry_storage_action_seconds_count{action=\"ReadAll\",driver=\"filesystem\"}") >= 1);
        Assert.Equal(0, samples.Where(s => s.Key.StartsWith("registry_storage_errors_total", StringComparison.Ordinal)).Sum(s => s.Value));
        Assert.True(samples.ValueOrZero("process_resident_memory_bytes") > 0);
    }

    [Fact]
    public async Task OnlineGc_AfterAManifestDelete_CountsTheRunAndWhatItFreed()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        (RegistryServer started, int debugPort) = await StartAsync(work, environment: new Dictionary<string, string>
        {
            ["REGISTRY_STORAGE_MAINTENANCE_GC_ENABLED"] = "true",
            ["REGISTRY_STORAGE_MAINTENANCE_GC_INTERVAL"] = "1s",
            ["REGISTRY_STORAGE_MAINTENANCE_GC_GRACE"] = "1s",
        });
        await using RegistryServer registry = started;
        using var client = new HttpClient();
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/gc/busybox:1");
        (_, string digest, _) = await Tools.GetManifestAsync(client, registry.BaseUrl, "gc/busybox", "1", Ct);
        using (HttpResponseMessage delete = await client.DeleteAsync($"{registry.BaseUrl}/v2/gc/busybox/manifests/{digest}", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }
        long layerBytes = Directory.EnumerateFiles(Path.Combine(busybox, "blobs", "sha256")).Max(f => new FileInfo(f).Length);

        Dictionary<string, double> samples = [];
        for (int attempt = 0; attempt < 60 && (samples.ValueOrZero("registry_gc_freed_bytes_total") < layerBytes
            || samples.ValueOrZero("registry_gc_blobs_deleted_total") < 3); attempt++)
        {
            await Task.Delay(500, Ct);
            samples = (await ScrapeAndCheckAsync(client, debugPort, work.Path)).Samples;
        }
        Assert.True(samples.ValueOrZero("registry_gc_freed_bytes_total") >= layerBytes,
            $"no GC pass freed the {layerBytes}-byte layer within 30 s\n{registry.Output}");
        // The manifest, its config and its layer are unreferenced blobs; passes may sweep them at different times.
        Assert.True(samples.ValueOrZero("registry_gc_blobs_deleted_total") >= 3, $"fewer than 3 blobs swept within 30 s\n{registry.Output}");
        Assert.True(samples.ValueOrZero("registry_gc_runs_total{result=\"success\"}") >= 1);
        Assert.Equal(0, samples.ValueOrZero("registry_gc_runs_total{result=\"failure\"}"));
        Assert.True(samples.ValueOrZero("registry_gc_last_success_timestamp_seconds") > 1.7e9);
    }
}
