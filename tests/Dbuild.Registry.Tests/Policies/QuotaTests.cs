using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dbuild.Oci;
using Dbuild.Registry.Observability;
using Dbuild.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dbuild.Registry.Tests.Policies;

/// <summary>
/// <c>policies.quota</c> on the in-process registry: a namespace counts its distinct blobs together; a blob or manifest
/// that would go over is 403 DENIED with used and limit, and leaves no blob, link or upload behind.
/// </summary>
public sealed class QuotaTests
{
    private const string Policy = "policies:\n  quota:\n    - {repository: \"team/**\", size: 3000}\n";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<HttpResponseMessage> UploadAsync(RegistryFixture registry, string name, byte[] content)
    {
        using HttpResponseMessage start = await registry.Client.PostAsync($"/v2/{name}/blobs/uploads/", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await registry.Client.PutAsync($"{start.Headers.Location}?digest={Digest.Compute(content)}", body, Ct);
    }

    private static List<string> Files(RegistryFixture registry) =>
        [.. Directory.EnumerateFiles(registry.StorageRoot, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(registry.StorageRoot, f)).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Upload_OverTheNamespaceQuota_IsDeniedWithUsedAndLimit_AndLeavesNothingBehind()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(PolicyYaml.Apply(Policy));
        await registry.PushBlobAsync("team/a", RandomNumberGenerator.GetBytes(1200));
        await registry.PushBlobAsync("team/b", RandomNumberGenerator.GetBytes(1200)); // another repository of the namespace
        List<string> before = Files(registry);

        byte[] big = RandomNumberGenerator.GetBytes(1000);
        using HttpResponseMessage refused = await UploadAsync(registry, "team/c", big);
        string body = await refused.Content.ReadAsStringAsync(Ct);
        await ErrorBody.AssertAsync(refused, HttpStatusCode.Forbidden, "DENIED");
        Assert.Contains("quota exceeded for team/c", body, StringComparison.Ordinal);
        Assert.Contains("policies.quota[0]", body, StringComparison.Ordinal);
        Assert.Contains("allows 2.93 KiB (3000 bytes), 2.34 KiB (2400 bytes) used", body, StringComparison.Ordinal);
        Assert.Equal(before, Files(registry)); // no blob, no link, no upload left
        Assert.Contains(registry.Logs.GetSnapshot(), r => r.Id.Name == "QuotaRefused");
        Assert.Equal(1, PrometheusSamples.Parse(registry.Services.GetRequiredService<DebugEndpoints>().Scrape())["registry_policy_denied_total{policy=\"quota\"}"]);

        // Outside the namespace nothing counts; inside it, a push that fits is fine.
        await registry.PushBlobAsync("other", big);
        await registry.PushBlobAsync("team/c", RandomNumberGenerator.GetBytes(500));
    }

    [Fact]
    public async Task ABlobTheNamespaceAlreadyHolds_CountsOnce()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(PolicyYaml.Apply(Policy));
        byte[] shared = RandomNumberGenerator.GetBytes(2500);
        Digest digest = await registry.PushBlobAsync("team/a", shared);
        await registry.PushBlobAsync("team/b", shared); // held by team/a already: adds nothing
        using HttpResponseMessage mount = await registry.Client.PostAsync($"/v2/team/c/blobs/uploads/?mount={digest}&from=team/a", null, Ct);
        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        using HttpResponseMessage refused = await UploadAsync(registry, "team/c", RandomNumberGenerator.GetBytes(501));
        await ErrorBody.AssertAsync(refused, HttpStatusCode.Forbidden, "DENIED");
    }

    [Fact]
    public async Task Mount_IntoAFullNamespace_IsDenied()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(PolicyYaml.Apply(Policy));
        Digest digest = await registry.PushBlobAsync("outside", RandomNumberGenerator.GetBytes(2000));
        await registry.PushBlobAsync("team/a", RandomNumberGenerator.GetBytes(2000));
        List<string> before = Files(registry);
        using HttpResponseMessage mount = await registry.Client.PostAsync($"/v2/team/a/blobs/uploads/?mount={digest}&from=outside", null, Ct);
        await ErrorBody.AssertAsync(mount, HttpStatusCode.Forbidden, "DENIED");
        Assert.Equal(before, Files(registry));
    }

    [Fact]
    public async Task Manifest_ThatWouldGoOver_IsDenied_AndNothingIsStored()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(PolicyYaml.Apply("policies:\n  quota:\n    - {repository: app, size: 2200}\n"));
        string json = await registry.PushImageBlobsAsync("app"); // config (~40 bytes) and a 1000-byte layer
        await registry.PushBlobAsync("app", RandomNumberGenerator.GetBytes(1100));
        List<string> before = Files(registry);
        using HttpResponseMessage refused = await registry.PutManifestAsync("app", "v1", json); // the manifest's ~400 bytes do not fit
        await ErrorBody.AssertAsync(refused, HttpStatusCode.Forbidden, "DENIED");
        Assert.Equal(before, Files(registry));
        using HttpResponseMessage tags = await registry.Client.GetAsync("/v2/app/tags/list", Ct);
        Assert.DoesNotContain("v1", await tags.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }
}
