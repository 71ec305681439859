using System.Diagnostics;
using Dbuild.Oci;
using Dbuild.Registry.Client;
using Client = Dbuild.Registry.Client.RegistryClient;

namespace Dbuild.IntegrationTests.RegistryClient.Faults;

/// <summary>
/// The registry client against registry:2 behind a <see cref="FaultProxy"/>: stalls (headers never come, a body stops
/// mid-blob), 503/429 with <c>Retry-After</c>, dropped connections; retried and completed, or one line after the limit.
/// </summary>
public sealed class RegistryClientFaultTests
{
    private static readonly TimeSpan ClockSlack = TimeSpan.FromMilliseconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(DistributionRegistry Registry, FaultProxy Proxy, FaultTestImage Image)> StartAsync(params FaultRule[] rules)
    {
        DistributionRegistry registry = await DistributionRegistry.StartAsync(Ct);
        FaultTestImage image = FaultTestImage.Create();
        await image.PushAsync(registry.Host, Ct);
        FaultProxy proxy = (await FaultProxy.StartAsync(registry.Host, Ct)).With(rules);
        return (registry, proxy, image);
    }

    [Fact]
    public async Task GetBlob_BodyStallsMidway_ResumesWithRangeAfterTheReadTimeout()
    {
        var (registry, proxy, image) = await StartAsync(new FaultRule("GET", "/blobs/", FaultKind.StallBody) { AfterBytes = 256 * 1024 });
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options());
            using var copy = new MemoryStream();
            var clock = Stopwatch.StartNew();

            await client.CopyBlobAsync(proxy.Host, FaultTestImage.Repository, image.LayerBlob.Digest, copy, image.Layer.Length, Ct);

            Assert.Equal(image.Layer, copy.ToArray());
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"resumed after {clock.Elapsed}, before the 1 s read timeout");
            Assert.Equal([null, "bytes=262144-"], proxy.SeenFor("GET", "/blobs/").Select(r => r.Range));
        }
    }

    [Fact]
    public async Task GetBlob_ConnectionDroppedMidBody_ResumesWithRange()
    {
        var (registry, proxy, image) = await StartAsync(new FaultRule("GET", "/blobs/", FaultKind.DropMidBody) { AfterBytes = 300_000 });
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options());
            using var copy = new MemoryStream();

            await client.CopyBlobAsync(proxy.Host, FaultTestImage.Repository, image.LayerBlob.Digest, copy, image.Layer.Length, Ct);

            Assert.Equal(image.Layer, copy.ToArray());
            // Resumed where the client's bytes stopped: at most what the proxy sent (a reset may lose what was in flight).
            IReadOnlyList<SeenRequest> gets = proxy.SeenFor("GET", "/blobs/");
            Assert.Equal(2, gets.Count);
            Assert.Null(gets[0].Range);
            Assert.Matches("^bytes=[0-9]+-$", gets[1].Range);
            Assert.InRange(long.Parse(gets[1].Range![6..^1], System.Globalization.CultureInfo.InvariantCulture), 1, 300_000);
        }
    }

    [Fact]
    public async Task GetManifest_HeadersNeverCome_RetriedAfterTheReadTimeout()
    {
        var (registry, proxy, image) = await StartAsync(new FaultRule("GET", "/manifests/", FaultKind.StallHeaders));
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options());
            var clock = Stopwatch.StartNew();

            ManifestResponse manifest = await client.GetManifestAsync(proxy.Host, FaultTestImage.Repository, "1", Ct);

            Assert.Equal(image.Manifest.Digest, manifest.Digest);
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"retried after {clock.Elapsed}, before the 1 s read timeout");
            Assert.Equal(2, proxy.SeenFor("GET", "/manifests/").Count);
        }
    }

    [Fact]
    public async Task GetBlob_BodyStallsEveryTime_OneLineAfterTheLimit()
    {
        var (registry, proxy, image) = await StartAsync(new FaultRule("GET", "/blobs/", FaultKind.StallBody, Times: 100));
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options(maxAttempts: 3, readTimeoutSeconds: 0.5));
            var clock = Stopwatch.StartNew();

            RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() =>
                client.CopyBlobAsync(proxy.Host, FaultTestImage.Repository, image.LayerBlob.Digest, Stream.Null, image.Layer.Length, Ct));

            Assert.Equal($"Contacting {proxy.Host} failed: GET /v2/app/blobs/{image.LayerBlob.Digest}: no data for 500ms (read timeout), gave up after 3 attempts. " +
                "Check that the registry is reachable.", ex.Message);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6)); // 3 × 0.5 s plus two short backoffs
            Assert.Equal(3, proxy.SeenFor("GET", "/blobs/").Count);
        }
    }

    [Fact]
    public async Task GetManifest_HeadersNeverCome_OneLineAfterTheLimit()
    {
        var (registry, proxy, _) = await StartAsync(new FaultRule("GET", "/manifests/", FaultKind.StallHeaders, Times: 100));
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options(maxAttempts: 3, readTimeoutSeconds: 0.5));
            var clock = Stopwatch.StartNew();

            RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(proxy.Host, FaultTestImage.Repository, "1", Ct));

            Assert.Equal($"Contacting {proxy.Host} failed: GET /v2/app/manifests/1: no response for 500ms (read timeout), gave up after 3 attempts. " +
                "Check that the registry is reachable.", ex.Message);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
            Assert.Equal(3, proxy.SeenFor("GET", "/manifests/").Count);
        }
    }

    [Theory]
    [InlineData(503, "1")]
    [InlineData(429, "1")]
    [InlineData(503, "date+2")] // an HTTP-date 2 s ahead (whole seconds: at least 1 s away)
    [InlineData(429, "30")] // capped at MaxRetryAfter (5 s in these tests)
    public async Task GetManifest_RetryAfter_WaitsThatLongThenSucceeds(int status, string retryAfter)
    {
        var (registry, proxy, image) = await StartAsync(new FaultRule("GET", "/manifests/", FaultKind.Status) { Status = status, RetryAfter = retryAfter });
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options());

            ManifestResponse manifest = await client.GetManifestAsync(proxy.Host, FaultTestImage.Repository, "1", Ct);

            Assert.Equal(image.Manifest.Digest, manifest.Digest);
            IReadOnlyList<SeenRequest> seen = proxy.SeenFor("GET", "/manifests/");
            Assert.Equal(2, seen.Count);
            // Arrival times are the proxy's wall clock; the client's timer runs on the monotonic one, in whole
            // milliseconds, so a 1 s wait can show as 999.7 ms here (seen in CI): a few milliseconds of slack.
            TimeSpan waited = seen[1].At - seen[0].At + ClockSlack;
            Assert.InRange(waited, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(retryAfter == "30" ? 6 : 4));
            if (retryAfter == "30") { Assert.True(waited >= TimeSpan.FromSeconds(5), $"waited {waited}, less than the 5 s cap"); }
        }
    }

    [Fact]
    public async Task HeadAndGet_ConnectionDropped_Retried()
    {
        var (registry, proxy, image) = await StartAsync(
            new FaultRule("HEAD", "/blobs/", FaultKind.DropBeforeForward),
            new FaultRule("GET", "/manifests/", FaultKind.DropAfterForward));
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options());

            long? size = await client.StatBlobAsync(proxy.Host, FaultTestImage.Repository, image.LayerBlob.Digest, Ct);
            ManifestResponse manifest = await client.GetManifestAsync(proxy.Host, FaultTestImage.Repository, "1", Ct);

            Assert.Equal(image.Layer.Length, size);
            Assert.Equal(image.Manifest.Digest, manifest.Digest);
            Assert.Equal(2, proxy.SeenFor("HEAD", "/blobs/").Count);
            Assert.Equal(2, proxy.SeenFor("GET", "/manifests/").Count);
        }
    }

    [Fact]
    public async Task PushBlobOnce_ConnectionDroppedAfterThePost_PostNeverSentAgain()
    {
        var (registry, proxy, _) = await StartAsync(new FaultRule("POST", "/blobs/uploads/", FaultKind.DropAfterForward));
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options());
            FaultTestImage other = FaultTestImage.Create();

            RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobOnceAsync(proxy.Host, "other", other.LayerBlob, Ct));

            Assert.StartsWith($"Contacting {proxy.Host} failed: POST /v2/other/blobs/uploads/: ", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("gave up", ex.Message, StringComparison.Ordinal);
            Assert.Single(proxy.SeenFor("POST", "/blobs/uploads/"));
            Assert.Empty(proxy.SeenFor("PUT", "/blobs/uploads/"));
        }
    }

    [Fact]
    public async Task PushBlob_ConnectionDroppedDuringTheStreamedPut_NewUploadNotTheSamePutAgain()
    {
        var (registry, proxy, _) = await StartAsync(new FaultRule("PUT", "/blobs/uploads/", FaultKind.DropBeforeForward));
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options());
            FaultTestImage other = FaultTestImage.Create();

            BlobPushOutcome outcome = await client.PushBlobAsync(proxy.Host, "other", other.LayerBlob, Ct);

            Assert.Equal(BlobPushOutcome.Uploaded, outcome);
            Assert.Equal(other.Layer.Length, await new Client(new HttpClient()).StatBlobAsync(registry.Host, "other", other.LayerBlob.Digest, Ct));
            // One POST per upload, and each upload's streamed PUT sent once: the retry is a new upload.
            IReadOnlyList<SeenRequest> puts = proxy.SeenFor("PUT", "/blobs/uploads/");
            Assert.Equal(2, proxy.SeenFor("POST", "/blobs/uploads/").Count);
            Assert.Equal(2, puts.Count);
            Assert.Equal(2, puts.Select(p => p.Path).Distinct().Count());
        }
    }

    [Fact]
    public async Task PushBlob_HeadStallsEveryTime_GivesUpAfterTheRequestsAttemptsNotAgainPerBlob()
    {
        var (registry, proxy, _) = await StartAsync(new FaultRule("HEAD", "/blobs/", FaultKind.StallHeaders, Times: 100));
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options(maxAttempts: 2, readTimeoutSeconds: 0.5));
            FaultTestImage other = FaultTestImage.Create();

            RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => client.PushBlobAsync(proxy.Host, "other", other.LayerBlob, Ct));

            Assert.Equal($"Contacting {proxy.Host} failed: HEAD /v2/other/blobs/{other.LayerBlob.Digest}: no response for 500ms (read timeout), " +
                "gave up after 2 attempts. Check that the registry is reachable.", ex.Message);
            Assert.Equal(2, proxy.SeenFor("HEAD", "/blobs/").Count); // not 2 × 2: the blob push does not retry what was retried
        }
    }

    [Fact]
    public async Task PushManifest_ConnectionDropped_ReplayedBecauseTheBodyIsInMemory()
    {
        var (registry, proxy, image) = await StartAsync(new FaultRule("PUT", "/manifests/", FaultKind.DropBeforeForward));
        await using (registry)
        await using (proxy)
        {
            var client = new Client(new HttpClient(), FaultTestImage.Options());

            Digest pushed = await client.PushManifestAsync(proxy.Host, FaultTestImage.Repository, "2", image.Manifest, Ct);

            Assert.Equal(image.Manifest.Digest, pushed);
            Assert.Equal(2, proxy.SeenFor("PUT", "/manifests/2").Count);
        }
    }
}
