using System.Net;
using Dbuild.Registry.Observability;
using Dbuild.Registry.Storage;
using Dbuild.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dbuild.Registry.Tests;

/// <summary>Request, upload and storage metrics of the in-process registry, read from the scrape text it serves.</summary>
public sealed class MetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, double> Samples(string scrape) => PrometheusSamples.Parse(scrape);

    private static string Scrape(RegistryFixture registry) => registry.Services.GetRequiredService<DebugEndpoints>().Scrape();

    [Fact]
    public async Task Scrape_AfterPushAndPull_CountsRequestsByRouteAndStatus()
    {
        await using var registry = await RegistryFixture.StartAsync(o => o.PrometheusEnabled = true);
        string manifest = await registry.PushImageBlobsAsync("team/app");
        using (HttpResponseMessage put = await registry.PutManifestAsync("team/app", "1", manifest)) { Assert.Equal(HttpStatusCode.Created, put.StatusCode); }
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage get = await registry.Client.GetAsync("/v2/team/app/manifests/1", Ct);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }
        using (HttpResponseMessage missing = await registry.Client.GetAsync("/v2/team/app/manifests/nope", Ct)) { Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode); }
        using (HttpResponseMessage unknown = await registry.Client.GetAsync("/v2/no-such-endpoint", Ct)) { Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode); }

        Dictionary<string, double> samples = Samples(Scrape(registry));
        Assert.Equal(3, samples["registry_http_requests_total{code=\"200\",handler=\"manifest\",method=\"get\"}"]);
        Assert.Equal(1, samples["registry_http_requests_total{code=\"404\",handler=\"manifest\",method=\"get\"}"]);
        Assert.Equal(1, samples["registry_http_requests_total{code=\"201\",handler=\"manifest\",method=\"put\"}"]);
        Assert.Equal(2, samples["registry_http_requests_total{code=\"202\",handler=\"blob_upload\",method=\"post\"}"]);
        Assert.Equal(2, samples["registry_http_requests_total{code=\"201\",handler=\"blob_upload_chunk\",method=\"put\"}"]);
        Assert.Equal(1, samples["registry_http_requests_total{code=\"404\",handler=\"unknown\",method=\"get\"}"]);
        Assert.Equal(4, samples["registry_http_request_duration_seconds_count{handler=\"manifest\",method=\"get\"}"]);
        Assert.Equal(4, samples["registry_http_request_duration_seconds_bucket{handler=\"manifest\",method=\"get\",le=\"+Inf\"}"]);
        // Bytes in: the two blob bodies (config and a 1000-byte layer); bytes out: three manifest bodies and an error body.
        Assert.True(samples["registry_http_request_size_bytes_sum{handler=\"blob_upload_chunk\"}"] > 1000);
        Assert.True(samples["registry_http_response_size_bytes_sum{handler=\"manifest\"}"] >= 3 * manifest.Length);
        Assert.Equal(2, samples["registry_upload_sessions_started_total"]);
        Assert.Equal(2, samples["registry_upload_sessions_completed_total"]);
        Assert.Equal(0, samples["registry_upload_sessions_cancelled_total"]);
    }

    [Fact]
    public async Task Scrape_MonolithicCancelledAndMountedUploads_CountsSessions()
    {
        await using var registry = await RegistryFixture.StartAsync(o => o.PrometheusEnabled = true);
        byte[] blob = "monolithic"u8.ToArray();
        Dbuild.Oci.Digest digest = RegistryFixture.DigestOf(blob);
        using (var body = new ByteArrayContent(blob))
        using (HttpResponseMessage monolithic = await registry.Client.PostAsync($"/v2/a/blobs/uploads/?digest={digest}", body, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, monolithic.StatusCode);
        }
        using (HttpResponseMessage mount = await registry.Client.PostAsync($"/v2/b/blobs/uploads/?mount={digest}&from=a", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        }
        using HttpResponseMessage start = await registry.Client.PostAsync("/v2/a/blobs/uploads/", null, Ct);
        using (HttpResponseMessage cancel = await registry.Client.DeleteAsync(start.Headers.Location, Ct)) { Assert.Equal(HttpStatusCode.NoContent, cancel.StatusCode); }

        Dictionary<string, double> samples = Samples(Scrape(registry));
        Assert.Equal(2, samples["registry_upload_sessions_started_total"]);
        Assert.Equal(1, samples["registry_upload_sessions_completed_total"]);
        Assert.Equal(1, samples["registry_upload_sessions_cancelled_total"]);
        Assert.Equal(1, samples["registry_http_requests_total{code=\"204\",handler=\"blob_upload_chunk\",method=\"delete\"}"]);
    }

    [Fact]
    public async Task Scrape_RefusedBeforeRouting_CountsUnderTheRoute()
    {
        using var dir = new TempDirectory();
        string htpasswd = dir.Combine("htpasswd");
        File.WriteAllText(htpasswd, "alice:$2y$05$8WZONiaiUM8ej.z4JaXGw.53CHsIM4s/eyVqpsDv8N.7cJDsjv7wy\n"); // htpasswd -nbB alice s3cret
        await using var registry = await RegistryFixture.StartAsync(o => (o.PrometheusEnabled, o.HtpasswdPath) = (true, htpasswd));
        using (HttpResponseMessage refused = await registry.Client.GetAsync("/v2/team/app/manifests/1", Ct)) { Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode); }
        using var headRequest = new HttpRequestMessage(HttpMethod.Head, "/v2/team/app/blobs/sha256:" + new string('0', 64));
        using (HttpResponseMessage head = await registry.Client.SendAsync(headRequest, Ct)) { Assert.Equal(HttpStatusCode.Unauthorized, head.StatusCode); }

        Dictionary<string, double> samples = Samples(Scrape(registry));
        Assert.Equal(1, samples["registry_http_requests_total{code=\"401\",handler=\"manifest\",method=\"get\"}"]);
        Assert.Equal(1, samples["registry_http_requests_total{code=\"401\",handler=\"blob\",method=\"head\"}"]);
        Assert.Equal(0, samples["registry_http_response_size_bytes_sum{handler=\"blob\"}"]); // a HEAD sends no body
    }

    [Fact]
    public async Task Scrape_StorageOperations_AreMeasuredThroughTheDriverDecorator()
    {
        await using var registry = await RegistryFixture.StartAsync(o => o.PrometheusEnabled = true);
        Assert.IsType<InstrumentedStorageDriver>(registry.Services.GetRequiredService<IStorageDriver>());
        await registry.PushBlobAsync("team/app", "layer"u8.ToArray());

        Dictionary<string, double> samples = Samples(Scrape(registry));
        Assert.True(samples["registry_storage_action_seconds_count{action=\"Stage\",driver=\"filesystem\"}"] >= 1);
        Assert.True(samples["registry_storage_action_seconds_count{action=\"Write\",driver=\"filesystem\"}"] >= 1);
        Assert.Equal(0, samples["registry_storage_errors_total{action=\"Write\",driver=\"filesystem\"}"]);
    }

    [Fact]
    public async Task Decorator_FailingOperation_CountsAnError()
    {
        using var root = new Dbuild.Testing.TempDirectory();
        var metrics = new StorageMetrics();
        var driver = new InstrumentedStorageDriver(new FileSystemDriver(root.Path), metrics);
        await Assert.ThrowsAsync<ArgumentException>(() => driver.StatAsync("../outside", Ct)); // the driver refuses unsafe paths
        await driver.StatAsync("docker/registry/v2/missing", Ct);
        Assert.Equal(1, metrics.Errors(StorageAction.Stat));
        Assert.Equal(2, metrics.Operations(StorageAction.Stat));
    }

    [Fact]
    public async Task MetricsOff_NothingIsRecordedAndTheDriverIsNotWrapped()
    {
        await using var registry = await RegistryFixture.StartAsync();
        using (HttpResponseMessage get = await registry.Client.GetAsync("/v2/", Ct)) { Assert.Equal(HttpStatusCode.OK, get.StatusCode); }
        Assert.IsType<FileSystemDriver>(registry.Services.GetRequiredService<IStorageDriver>());
        string scrape = Scrape(registry);
        Assert.DoesNotContain("registry_http_requests_total{", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("registry_storage_action_seconds", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public void Histogram_ObservationOnABound_FallsInThatBucket()
    {
        var histogram = new HistogramSeries(1, [1, 10], scale: 1);
        histogram.Observe(0, 1);
        histogram.Observe(0, 2);
        histogram.Observe(0, 11);
        var text = new PrometheusText();
        histogram.Write(text, "x_bytes", 0, "a=\"b\"");
        Dictionary<string, double> samples = Samples(text.ToString());
        Assert.Equal(1, samples["x_bytes_bucket{a=\"b\",le=\"1\"}"]);
        Assert.Equal(2, samples["x_bytes_bucket{a=\"b\",le=\"10\"}"]);
        Assert.Equal(3, samples["x_bytes_bucket{a=\"b\",le=\"+Inf\"}"]);
        Assert.Equal(14, samples["x_bytes_sum{a=\"b\"}"]);
        Assert.Equal(3, samples["x_bytes_count{a=\"b\"}"]);
    }
}
