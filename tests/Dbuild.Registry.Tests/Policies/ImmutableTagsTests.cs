using System.Net;
using System.Text;
using Dbuild.Oci;
using Dbuild.Registry.Observability;
using Dbuild.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dbuild.Registry.Tests.Policies;

/// <summary><c>policies.immutable</c> on the in-process registry: moves and deletes of a covered tag are 403 DENIED naming the rule.</summary>
public sealed class ImmutableTagsTests
{
    private const string Policy = "policies:\n  immutable:\n    - {repository: \"prod/**\", tags: v*}\n";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(string Json, Digest Digest)> PushAsync(RegistryFixture registry, string name, string tag)
    {
        string json = await registry.PushImageBlobsAsync(name);
        using HttpResponseMessage put = await registry.PutManifestAsync(name, tag, json);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        return (json, Digest.Compute(Encoding.UTF8.GetBytes(json)));
    }

    private static async Task<string> TagDigestAsync(RegistryFixture registry, string name, string tag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/{name}/manifests/{tag}");
        using HttpResponseMessage response = await registry.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("Docker-Content-Digest").Single();
    }

    [Fact]
    public async Task Push_OtherDigestToAnExistingImmutableTag_IsDeniedNamingTheRule_SameDigestIsFine()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(PolicyYaml.Apply(Policy));
        (string first, Digest firstDigest) = await PushAsync(registry, "prod/api", "v1");

        using (HttpResponseMessage again = await registry.PutManifestAsync("prod/api", "v1", first)) { Assert.Equal(HttpStatusCode.Created, again.StatusCode); }

        string other = await registry.PushImageBlobsAsync("prod/api");
        using HttpResponseMessage moved = await registry.PutManifestAsync("prod/api", "v1", other);
        string body = await moved.Content.ReadAsStringAsync(Ct);
        await ErrorBody.AssertAsync(moved, HttpStatusCode.Forbidden, "DENIED");
        Assert.Contains("policies.immutable[0] (repository prod/**, tags v*)", body, StringComparison.Ordinal);
        Assert.Contains("tag v1 of prod/api is immutable", body, StringComparison.Ordinal);
        Assert.Equal(firstDigest.ToString(), await TagDigestAsync(registry, "prod/api", "v1"));
        string scrape = registry.Services.GetRequiredService<DebugEndpoints>().Scrape();
        Assert.Equal(1, PrometheusSamples.Parse(scrape)["registry_policy_denied_total{policy=\"immutable\"}"]);
        Assert.Contains(registry.Logs.GetSnapshot(), r => r.Id.Name == "ImmutableTagRefused" && r.Message.Contains("refused push of prod/api:v1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TagsOutsideTheRule_MoveFreely_AndANewImmutableTagCanBeCreated()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(PolicyYaml.Apply(Policy));
        await PushAsync(registry, "prod/api", "latest");
        (_, Digest second) = await PushAsync(registry, "prod/api", "latest");
        Assert.Equal(second.ToString(), await TagDigestAsync(registry, "prod/api", "latest"));
        await PushAsync(registry, "dev/api", "v1");
        (_, Digest dev) = await PushAsync(registry, "dev/api", "v1");
        Assert.Equal(dev.ToString(), await TagDigestAsync(registry, "dev/api", "v1"));
        await PushAsync(registry, "prod/api", "v2"); // creating the tag is allowed
    }

    [Fact]
    public async Task Delete_OfAnImmutableTagOrOfTheManifestItNames_IsDenied()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(PolicyYaml.Apply(Policy));
        (_, Digest digest) = await PushAsync(registry, "prod/api", "v1");
        using (HttpResponseMessage byTag = await registry.Client.DeleteAsync("/v2/prod/api/manifests/v1", Ct))
        {
            await ErrorBody.AssertAsync(byTag, HttpStatusCode.Forbidden, "DENIED");
        }
        using (HttpResponseMessage byDigest = await registry.Client.DeleteAsync($"/v2/prod/api/manifests/{digest}", Ct))
        {
            await ErrorBody.AssertAsync(byDigest, HttpStatusCode.Forbidden, "DENIED");
        }
        Assert.Equal(digest.ToString(), await TagDigestAsync(registry, "prod/api", "v1"));
        (_, Digest mutable) = await PushAsync(registry, "prod/api", "latest");
        using HttpResponseMessage free = await registry.Client.DeleteAsync($"/v2/prod/api/manifests/{mutable}", Ct);
        Assert.Equal(HttpStatusCode.Accepted, free.StatusCode);
    }
}
