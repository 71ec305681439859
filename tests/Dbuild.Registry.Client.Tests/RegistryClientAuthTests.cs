using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Dbuild.Registry.Client.Tests;

public sealed class RegistryClientAuthTests
{
    private const string Registry = "registry.test";
    private const string Challenge = """Bearer realm="https://auth.test/token",service="registry.test" """;

    private static RegistryClient Client(StrictHandler handler, IRegistryCredentialSource? credentials = null, TimeProvider? time = null) =>
        new(new HttpClient(handler), new RegistryClientOptions { RetryDelay = TimeSpan.Zero, TimeProvider = time ?? TimeProvider.System }, credentials);

    private static StaticCredentialSource Alice() => new(new Dictionary<string, RegistryCredential> { [Registry] = new("alice", "s3cret") });

    [Fact]
    public async Task Ping_BearerChallenge_FetchesTokenWithBasicCredentialsAndRetries()
    {
        var handler = new StrictHandler()
            .On(HttpMethod.Get, "/v2/", (_, _) => StrictHandler.Unauthorized(Challenge))
            .On(HttpMethod.Get, "/token?service=registry.test", (request, _) =>
            {
                Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret")), request.Headers.Authorization?.ToString());
                return StrictHandler.Json("""{"token":"T1","expires_in":300}""");
            })
            .On(HttpMethod.Get, "/v2/", (request, _) =>
            {
                Assert.Equal("Bearer T1", request.Headers.Authorization?.ToString());
                return new HttpResponseMessage(HttpStatusCode.OK);
            });

        await Client(handler, Alice()).PingAsync(Registry, TestContext.Current.CancellationToken);

        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task GetManifest_SecondCallSameScope_ReusesCachedToken()
    {
        const string manifest = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}""";
        var handler = new StrictHandler()
            .On(HttpMethod.Get, "/v2/app/manifests/1", (_, _) => StrictHandler.Unauthorized(Challenge + ",scope=\"repository:app:pull\""))
            .On(HttpMethod.Get, "/token?service=registry.test&scope=repository%3Aapp%3Apull", (_, _) => StrictHandler.Json("""{"access_token":"T1","expires_in":300}"""))
            .On(HttpMethod.Get, "/v2/app/manifests/", (_, _) => StrictHandler.Json(manifest, mediaType: "application/vnd.oci.image.manifest.v1+json"), repeat: true);
        RegistryClient client = Client(handler);

        await client.GetManifestAsync(Registry, "app", "1", TestContext.Current.CancellationToken);
        await client.GetManifestAsync(Registry, "app", "2", TestContext.Current.CancellationToken);

        Assert.Equal(4, handler.Requests.Count);
        Assert.Equal("Bearer T1", handler.Requests[^1].Authorization);
    }

    [Fact]
    public async Task GetManifest_TokenExpired_FetchesNewToken()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        int tokens = 0;
        var handler = new StrictHandler()
            .On(HttpMethod.Get, "/v2/app/manifests/1", (_, _) => StrictHandler.Unauthorized(Challenge))
            .On(HttpMethod.Get, "/token", (_, _) => StrictHandler.Json($$"""{"token":"T{{++tokens}}","expires_in":60}"""), repeat: true)
            .On(HttpMethod.Get, "/v2/app/manifests/", (_, _) => StrictHandler.Json("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"""), repeat: true);
        RegistryClient client = Client(handler, time: time);
        await client.GetManifestAsync(Registry, "app", "1", TestContext.Current.CancellationToken);

        time.Advance(TimeSpan.FromMinutes(5));
        await client.GetManifestAsync(Registry, "app", "2", TestContext.Current.CancellationToken);

        Assert.Equal(2, tokens);
        Assert.Equal("Bearer T2", handler.Requests[^1].Authorization);
    }

    [Fact]
    public async Task Ping_BasicChallenge_RetriesWithBasicHeader()
    {
        var handler = new StrictHandler()
            .On(HttpMethod.Get, "/v2/", (_, _) => StrictHandler.Unauthorized("Basic realm=\"Registry\""))
            .On(HttpMethod.Get, "/v2/", (request, _) =>
            {
                Assert.StartsWith("Basic ", request.Headers.Authorization?.ToString(), StringComparison.Ordinal);
                return new HttpResponseMessage(HttpStatusCode.OK);
            });

        await Client(handler, Alice()).PingAsync(Registry, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Ping_StillUnauthorized_ThrowsWithLoginHint()
    {
        var handler = new StrictHandler()
            .On(HttpMethod.Get, "/v2/", (_, _) => StrictHandler.Unauthorized("Basic realm=\"Registry\""), repeat: true);

        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => Client(handler, Alice()).PingAsync(Registry, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Equal("UNAUTHORIZED", ex.ErrorCode);
        Assert.False(ex.IsTransient);
        Assert.Equal("Contacting registry.test failed: 401 UNAUTHORIZED (authentication required). Run 'dbuild login registry.test' or check the token's scope.", ex.Message);
    }

    [Fact]
    public async Task Ping_ServiceUnavailableThenOk_Retries()
    {
        var handler = new StrictHandler()
            .On(HttpMethod.Get, "/v2/", HttpStatusCode.ServiceUnavailable)
            .On(HttpMethod.Get, "/v2/", HttpStatusCode.OK);

        await Client(handler).PingAsync(Registry, TestContext.Current.CancellationToken);

        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task Ping_AlwaysUnavailable_ThrowsTransient()
    {
        var handler = new StrictHandler().On(HttpMethod.Get, "/v2/", HttpStatusCode.ServiceUnavailable, repeat: true);

        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => Client(handler).PingAsync(Registry, TestContext.Current.CancellationToken));

        Assert.True(ex.IsTransient);
        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public void BaseUri_LoopbackIsPlainHttp_DockerHubMapsToApiHost()
    {
        var client = new RegistryClient(new HttpClient());

        Assert.Equal("http://127.0.0.1:5000/", client.BaseUri("127.0.0.1:5000").ToString());
        Assert.Equal("http://localhost:5000/", client.BaseUri("localhost:5000").ToString());
        Assert.Equal("https://registry-1.docker.io/", client.BaseUri("docker.io").ToString());
        Assert.Equal("https://ghcr.io/", client.BaseUri("ghcr.io").ToString());
    }
}
