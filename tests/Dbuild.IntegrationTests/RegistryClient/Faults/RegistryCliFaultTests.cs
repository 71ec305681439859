using Dbuild.Registry.Client;
using Dbuild.Testing;
using Client = Dbuild.Registry.Client.RegistryClient;

namespace Dbuild.IntegrationTests.RegistryClient.Faults;

/// <summary>
/// <c>dbuild pull</c> and <c>dbuild push</c> end to end through a <see cref="FaultProxy"/> in front of registry:2, with
/// the timeouts set short through the environment (DBUILD_REGISTRY_TIMEOUT, …) as README says.
/// </summary>
public sealed class RegistryCliFaultTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<ProcessResult> DbuildAsync(TempDirectory work, IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        DbuildCli.RunAsync(["--root", work.Combine("root"), .. arguments], Ct,
            new Dictionary<string, string?>(environment) { ["DOCKER_CONFIG"] = work.Combine("docker"), ["DBUILD_CONFIG"] = null },
            timeout: TimeSpan.FromSeconds(60));

    [Fact]
    public async Task PullThenPush_StallsRetryAfterAndDrops_Complete()
    {
        using var work = new TempDirectory("dbuild-cli-faults-");
        await using DistributionRegistry registry = await DistributionRegistry.StartAsync(Ct);
        FaultTestImage image = FaultTestImage.Create();
        await image.PushAsync(registry.Host, Ct);
        await using FaultProxy proxy = (await FaultProxy.StartAsync(registry.Host, Ct)).With(
            new FaultRule("GET", "/manifests/", FaultKind.Status) { Status = 503, RetryAfter = "1" },
            new FaultRule("GET", image.LayerBlob.Digest.Encoded, FaultKind.StallBody) { AfterBytes = 256 * 1024 },
            new FaultRule("GET", image.ConfigBlob.Digest.Encoded, FaultKind.DropBeforeForward));
        var environment = new Dictionary<string, string?> { ["DBUILD_REGISTRY_TIMEOUT"] = "1s", ["DBUILD_REGISTRY_RETRY_DELAY"] = "50ms" };

        ProcessResult pull = await DbuildAsync(work, environment, "pull", $"{proxy.Host}/app:1");

        Assert.True(pull.ExitCode == 0, pull.StandardError);
        Assert.Contains($"Digest: {image.Manifest.Digest}", pull.StandardOutput, StringComparison.Ordinal);
        Assert.Equal([null, "bytes=262144-"], proxy.SeenFor("GET", image.LayerBlob.Digest.Encoded).Select(r => r.Range));

        proxy.With(
            new FaultRule("HEAD", "/blobs/", FaultKind.Status) { Status = 503, RetryAfter = "1" },
            new FaultRule("POST", "/blobs/uploads/", FaultKind.DropAfterForward),
            new FaultRule("PUT", "/manifests/", FaultKind.DropBeforeForward));
        (await DbuildAsync(work, environment, "tag", $"{proxy.Host}/app:1", $"{proxy.Host}/copy:1")).EnsureSuccess();

        ProcessResult push = await DbuildAsync(work, environment, "push", $"{proxy.Host}/copy:1");

        Assert.True(push.ExitCode == 0, push.StandardError);
        ManifestResponse pushed = await new Client(new HttpClient()).GetManifestAsync(registry.Host, "copy", "1", Ct);
        Assert.Equal(image.Manifest.Digest, pushed.Digest);
        // The dropped POST (a mount the registry did) was not sent again: its blob's push started over and the HEAD found
        // the blob, so one POST per blob. The dropped manifest PUT (its body in memory) was sent again.
        Assert.Equal(2, proxy.SeenFor("POST", "/blobs/uploads/").Count);
        IReadOnlyList<SeenRequest> manifestPuts = proxy.SeenFor("PUT", "/manifests/");
        Assert.Equal(manifestPuts.Select(p => p.Path).Distinct().Count() + 1, manifestPuts.Count);
    }

    [Fact]
    public async Task Pull_BlobStallsEveryTime_OneLineErrorAfterTheLimit()
    {
        using var work = new TempDirectory("dbuild-cli-faults-");
        await using DistributionRegistry registry = await DistributionRegistry.StartAsync(Ct);
        FaultTestImage image = FaultTestImage.Create();
        await image.PushAsync(registry.Host, Ct);
        await using FaultProxy proxy = (await FaultProxy.StartAsync(registry.Host, Ct)).With(
            new FaultRule("GET", image.LayerBlob.Digest.Encoded, FaultKind.StallBody) { AfterBytes = 100_000 },
            new FaultRule("GET", image.LayerBlob.Digest.Encoded, FaultKind.StallBody, Times: 100)); // resumes get no byte: no progress
        var environment = new Dictionary<string, string?>
        {
            ["DBUILD_REGISTRY_TIMEOUT"] = "500ms", ["DBUILD_REGISTRY_MAX_ATTEMPTS"] = "2", ["DBUILD_REGISTRY_RETRY_DELAY"] = "50ms",
        };

        ProcessResult pull = await DbuildAsync(work, environment, "pull", $"{proxy.Host}/app:1");

        Assert.NotEqual(0, pull.ExitCode);
        Assert.Equal($"error: Contacting {proxy.Host} failed: GET /v2/app/blobs/{image.LayerBlob.Digest}: no data for 500ms (read timeout), " +
            "gave up after 2 attempts. Check that the registry is reachable.", pull.StandardError.Trim());
    }

    [Fact]
    public async Task Pull_BadTimeoutSetting_UsageErrorNamingTheVariable()
    {
        using var work = new TempDirectory("dbuild-cli-faults-");

        ProcessResult pull = await DbuildAsync(work, new Dictionary<string, string?> { ["DBUILD_REGISTRY_TIMEOUT"] = "soon" }, "pull", "127.0.0.1:1/app:1");

        Assert.NotEqual(0, pull.ExitCode);
        Assert.Contains("DBUILD_REGISTRY_TIMEOUT=soon: not a duration", pull.StandardError, StringComparison.Ordinal);
    }
}
