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

    /// <summary>A config.yml with the debug server on <paramref name="debugPort"/>, metrics on, and <paramref name="storage"/> under <c>storage:</c>.</summary>
    internal static string WriteConfig(string directory, int port, int debugPort, string storage, string extra = "")
    {
        string path = Path.Combine(directory, $"config-{port}.yml");
        File.WriteAllText(path, $"""
            version: 0.1
            log:
              level: info
            storage:
              delete:
                enabled: true
            {storage}
            http:
              addr: 127.0.0.1:{port}
              debug:
                addr: 127.0.0.1:{debugPort}
                prometheus:
                  enabled: true
            {extra}
            """);
        return path;
    }

    private static async Task<(string Text, Dictionary<string, double> Samples)> ScrapeAndCheckAsync(HttpClient client, int debugPort, string work)
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
        int port = RegistryServer.FreePort(), debugPort = RegistryServer.FreePort();
        string root = work.Combine("data");
        string config = WriteConfig(work.Path, port, debugPort, $"  filesystem:\n    rootdirectory: {root}");
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(config, port, root, Ct);
        using var client = new HttpClient();

        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/library/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", $"docker://{registry.Host}/library/busybox:1", $"oci:{work.Combine("back")}:copy");
        long layerBytes = Directory.EnumerateFiles(Path.Combine(busybox, "blobs", "sha256")).Max(f => new FileInfo(f).Length);
        using (HttpResponseMessage main = await client.GetAsync($"{registry.BaseUrl}/metrics", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, main.StatusCode); // metrics are on the debug address only, as in registry:2
        }

        (_, Dictionary<string, double> samples) = await ScrapeAndCheckAsync(client, debugPort, work.Path);
        double started = samples.ValueOrZero("registry_upload_sessions_started_total");
        Assert.True(started >= 2, $"a layer and a config were uploaded, but {started} upload sessions started");
        Assert.Equal(started, samples.ValueOrZero("registry_upload_sessions_completed_total"));
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
        int port = RegistryServer.FreePort(), debugPort = RegistryServer.FreePort();
        string root = work.Combine("data");
        string storage = $"  filesystem:\n    rootdirectory: {root}\n  maintenance:\n    gc:\n      enabled: true\n      interval: 1s\n      grace: 1s";
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(WriteConfig(work.Path, port, debugPort, storage), port, root, Ct);
        using var client = new HttpClient();
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/gc/busybox:1");
        (_, string digest, _) = await Tools.GetManifestAsync(client, registry.BaseUrl, "gc/busybox", "1", Ct);
        using (HttpResponseMessage delete = await client.DeleteAsync($"{registry.BaseUrl}/v2/gc/busybox/manifests/{digest}", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }
        long layerBytes = Directory.EnumerateFiles(Path.Combine(busybox, "blobs", "sha256")).Max(f => new FileInfo(f).Length);

        Dictionary<string, double> samples = [];
        for (int attempt = 0; attempt < 60 && samples.ValueOrZero("registry_gc_freed_bytes_total") < layerBytes; attempt++)
        {
            await Task.Delay(500, Ct);
            samples = (await ScrapeAndCheckAsync(client, debugPort, work.Path)).Samples;
        }
        Assert.True(samples.ValueOrZero("registry_gc_freed_bytes_total") >= layerBytes,
            $"no GC pass freed the {layerBytes}-byte layer within 30 s\n{registry.Output}");
        Assert.True(samples.ValueOrZero("registry_gc_blobs_deleted_total") >= 3, "the manifest, its config and its layer are unreferenced blobs");
        Assert.True(samples.ValueOrZero("registry_gc_runs_total{result=\"success\"}") >= 1);
        Assert.Equal(0, samples.ValueOrZero("registry_gc_runs_total{result=\"failure\"}"));
        Assert.True(samples.ValueOrZero("registry_gc_last_success_timestamp_seconds") > 1.7e9);
    }
}
