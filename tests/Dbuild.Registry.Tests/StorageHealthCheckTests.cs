using System.Net;
using Dbuild.Registry.Observability;
using Dbuild.Registry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Tests;

/// <summary>registry:2's storage health check: threshold, recovery, and what <c>/debug/health</c> answers.</summary>
public sealed class StorageHealthCheckTests : IDisposable
{
    private readonly Dbuild.Testing.TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    private StorageHealthCheck Check(int threshold, string? root = null) => new(new FileSystemDriver(root ?? _dir.Path),
        Options.Create(new RegistryOptions { StorageRoot = _dir.Path, HealthStorageDriverEnabled = true, HealthStorageDriverThreshold = threshold }),
        TimeProvider.System, NullLogger<StorageHealthCheck>.Instance);

    [Fact]
    public void Update_ThresholdThree_FlipsOnTheThirdFailureAndBackOnOneSuccess()
    {
        StorageHealthCheck check = Check(threshold: 3);
        check.Update("filesystem: gone");
        check.Update("filesystem: gone");
        Assert.Null(check.Error);
        check.Update("filesystem: gone");
        Assert.Equal("filesystem: gone", check.Error);
        check.Update(null);
        Assert.Null(check.Error);
        check.Update("filesystem: gone"); // the count started over
        Assert.Null(check.Error);
    }

    [Fact]
    public void Update_NoThreshold_FlipsOnTheFirstFailure()
    {
        StorageHealthCheck check = Check(threshold: 0);
        check.Update("filesystem: gone");
        Assert.Equal("filesystem: gone", check.Error);
        Assert.Equal("storagedriver_filesystem", check.Name);
    }

    [Fact]
    public async Task CheckOnce_RootPresent_Passes_RootReplacedByAFile_Fails()
    {
        string root = _dir.Combine("root");
        Directory.CreateDirectory(root);
        StorageHealthCheck check = Check(threshold: 1, root);
        Assert.Null(await check.CheckOnceAsync(Ct));
        Directory.Delete(root);
        File.WriteAllText(root, "not a directory");
        string? failure = await check.CheckOnceAsync(Ct);
        Assert.NotNull(failure);
        Assert.Contains(root, failure, StringComparison.Ordinal);
        Assert.StartsWith("filesystem: ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DebugHealth_HealthyThenFailing_Answers200ThenNames503Check()
    {
        await using var registry = await RegistryFixture.StartAsync(o => (o.HealthStorageDriverEnabled, o.PrometheusEnabled) = (true, true));
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        await using WebApplication debug = builder.Build();
        debug.Run(registry.Services.GetRequiredService<DebugEndpoints>().HandleAsync);
        await debug.StartAsync(Ct);
        using HttpClient client = debug.GetTestClient();

        using (HttpResponseMessage healthy = await client.GetAsync("/debug/health", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
            Assert.Equal("{}", await healthy.Content.ReadAsStringAsync(Ct));
        }
        registry.Services.GetRequiredService<StorageHealthCheck>().Update("filesystem: storage root '/x' is missing or not a directory");
        using (HttpResponseMessage failing = await client.GetAsync("/debug/health", Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failing.StatusCode);
            Assert.Equal("{\"storagedriver_filesystem\":\"filesystem: storage root '/x' is missing or not a directory\"}", await failing.Content.ReadAsStringAsync(Ct));
        }
        using (HttpResponseMessage post = await client.PostAsync("/debug/health", null, Ct)) { Assert.Equal(HttpStatusCode.NotFound, post.StatusCode); }
        using HttpResponseMessage metrics = await client.GetAsync("/metrics", Ct);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType?.ToString());
        Assert.Contains("registry_health_check_up{check=\"storagedriver_filesystem\"} 0", await metrics.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }
}
