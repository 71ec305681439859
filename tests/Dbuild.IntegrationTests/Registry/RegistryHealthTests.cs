using System.Net;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// registry:2's <c>health.storagedriver</c> on a real <c>dbuild registry serve</c>: <c>/debug/health</c> on the debug
/// address answers 200 <c>{}</c>, 503 naming the check once the storage is unreachable (the filesystem root replaced by
/// a file; Azurite stopped), during which the main address answers 503 UNAVAILABLE, then 200 again once it is back.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryHealthTests
{
    private const string Health = "health:\n  storagedriver:\n    enabled: true\n    interval: 1s\n    threshold: 2";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FilesystemRootGone_HealthFlipsTo503AndBack()
    {
        using var work = new TempDirectory();
        (RegistryServer started, int debugPort) = await RegistryMetricsTests.StartAsync(work, Health);
        await using RegistryServer registry = started;
        string holder = work.Combine("holder");
        string root = registry.StorageRoot;
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        await ExpectHealthAsync(client, debugPort, HttpStatusCode.OK, registry);
        Directory.Move(holder, work.Combine("holder.away"));
        File.WriteAllText(holder, "the storage is gone");
        string body = await ExpectHealthAsync(client, debugPort, HttpStatusCode.ServiceUnavailable, registry);
        Assert.Contains("\"storagedriver_filesystem\":", body, StringComparison.Ordinal);
        Assert.Contains(root, body, StringComparison.Ordinal);
        await ExpectUnavailableAsync(client, registry);

        File.Delete(holder);
        Directory.Move(work.Combine("holder.away"), holder);
        await ExpectHealthAsync(client, debugPort, HttpStatusCode.OK, registry);
        using HttpResponseMessage back = await client.GetAsync($"{registry.BaseUrl}/v2/", Ct);
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }

    [Fact]
    public async Task AzuriteStopped_HealthFlipsTo503AndBack()
    {
        await using AzuriteServer azurite = await AzuriteServer.StartAsync(Ct);
        using var work = new TempDirectory();
        int port = RegistryServer.FreePort(), debugPort = RegistryServer.FreePort();
        string container = $"health{Guid.NewGuid():N}"[..20];
        string config = work.Combine("azure.yml");
        File.WriteAllText(config, $"version: 0.1\nstorage:\n{azurite.ConfigSection(container).TrimEnd()}\n"
            + $"http:\n  addr: 127.0.0.1:{port}\n{RegistryMetricsTests.DebugHttp(debugPort)}\n{Health}\n");
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(config, port, work.Path, Ct);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        await ExpectHealthAsync(client, debugPort, HttpStatusCode.OK, registry);
        await azurite.StopAsync();
        string body = await ExpectHealthAsync(client, debugPort, HttpStatusCode.ServiceUnavailable, registry);
        Assert.Contains("\"storagedriver_azure\":", body, StringComparison.Ordinal);
        await ExpectUnavailableAsync(client, registry);
        // The Azure driver is measured through the same decorator: each check is a List (the SDK retries a refused
        // connection until the check's timeout cancels it, which is not counted as a storage error).
        (_, Dictionary<string, double> samples) = await RegistryMetricsTests.ScrapeAndCheckAsync(client, debugPort, work.Path);
        Assert.True(samples.ValueOrZero("registry_storage_action_seconds_count{action=\"List\",driver=\"azure\"}") >= 2);
        Assert.Equal(0, samples.ValueOrZero("registry_health_check_up{check=\"storagedriver_azure\"}"));

        await azurite.RestartAsync(Ct);
        // A killed Azurite loses the metadata it had not flushed (the container); while it is missing the check still
        // fails ("container does not exist"), so the test puts it back as an operator would.
        await azurite.CreateServiceClient().GetBlobContainerClient(container).CreateIfNotExistsAsync(cancellationToken: Ct);
        await ExpectHealthAsync(client, debugPort, HttpStatusCode.OK, registry);
    }

    /// <summary>Polls <c>/debug/health</c> (bounded: 30 s) until it answers <paramref name="status"/>; returns the body.</summary>
    private static async Task<string> ExpectHealthAsync(HttpClient client, int debugPort, HttpStatusCode status, RegistryServer registry)
    {
        string last = "";
        for (int attempt = 0; attempt < 60; attempt++)
        {
            using HttpResponseMessage response = await client.GetAsync($"http://127.0.0.1:{debugPort}/debug/health", Ct);
            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}";
            if (response.StatusCode == status)
            {
                Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
                string body = await response.Content.ReadAsStringAsync(Ct);
                if (status == HttpStatusCode.OK) { Assert.Equal("{}", body); }
                return body;
            }
            await Task.Delay(500, Ct);
        }
        Assert.Fail($"/debug/health never answered {(int)status} within 30 s; last: {last}\n{registry.Output}");
        return "";
    }

    /// <summary>While unhealthy, the main address answers every request as registry:2 does.</summary>
    private static async Task ExpectUnavailableAsync(HttpClient client, RegistryServer registry)
    {
        using HttpResponseMessage response = await client.GetAsync($"{registry.BaseUrl}/v2/", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("\"code\":\"UNAVAILABLE\"", body, StringComparison.Ordinal);
        Assert.Contains("health check failed: please see /debug/health", body, StringComparison.Ordinal);
    }
}
