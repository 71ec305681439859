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
    public async Task WarmUp_SendsOneUnauthenticatedPing_AndIgnoresTheChallenge()
    {
        var handler = new StrictHandler().On(HttpMethod.Get, "/v2/", (_, _) => StrictHandler.Unauthorized(Challenge));

        await Client(handler, Alice()).WarmUpAsync(Registry, TestContext.Current.CancellationToken);

        var request = Assert.Single(handler.Requests); // no token fetched: only the connection is warmed
        Assert.Equal("/v2/", request.PathAndQuery);
        Assert.Null(request.Authorization);
    }

    [Fact]
    public async Task WarmUp_RegistryUnreachable_DoesNotThrow()
    {
        using var http = new HttpClient();
        var client = new RegistryClient(http, new RegistryClientOptions { RetryDelay = TimeSpan.Zero });

        await client.WarmUpAsync("127.0.0.1:1", TestContext.Current.CancellationToken); // nothing listens on port 1
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

    [Theory]
    [InlineData("repository:app:pull|repository:app:pull,push", "repository:app:pull,push")] // the challenge's scope joins the request's
    [InlineData("repository:app:push,pull", "repository:app:pull,push")] // registry:2 lists actions in map order
    [InlineData("repository:app:pull,push|repository:base:pull", "repository:app:pull,push|repository:base:pull")] // a mount: two resources
    [InlineData("repository:localhost:5000/app:pull|repository:localhost:5000/app:push", "repository:localhost:5000/app:pull,push")] // a colon in the name
    [InlineData("registry:catalog:*", "registry:catalog:*")]
    [InlineData("nonsense|repository:app:pull", "nonsense|repository:app:pull")] // not type:name:actions, kept as is
    public void MergeScopes_MergesActionsPerResource(string scopes, string expected)
    {
        Assert.Equal(expected.Split('|'), RegistryAuthenticator.MergeScopes(scopes.Split('|')));
    }

    [Fact]
    public async Task Push_ChallengeScopeNarrowerThanRequest_OneTokenForEveryRequest()
    {
        var handler = new StrictHandler()
            .On(HttpMethod.Head, "/v2/app/blobs/", (_, _) => StrictHandler.Unauthorized(Challenge + ",scope=\"repository:app:pull\""))
            .On(HttpMethod.Get, "/token?service=registry.test&scope=repository%3Aapp%3Apull%2Cpush", (_, _) => StrictHandler.Json("""{"token":"T1","expires_in":300}"""))
            .On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.NotFound)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/", (_, _) => StrictHandler.Accepted("/v2/app/blobs/uploads/u1"))
            .On(HttpMethod.Put, "/v2/app/blobs/uploads/u1?digest=", HttpStatusCode.Created);
        byte[] data = Encoding.UTF8.GetBytes("layer");

        await Client(handler, Alice()).PushBlobAsync(Registry, "app", new BlobUpload(Oci.Digest.Compute(data), data.Length, () => new MemoryStream(data)),
            TestContext.Current.CancellationToken);

        Assert.Equal(["Bearer T1"], handler.Requests.Skip(2).Select(r => r.Authorization).Distinct());
    }

    [Fact]
    public async Task OnUnauthorized_RequestSentWithoutTheCachedToken_ReusesIt()
    {
        // Parallel uploads all go out before the first challenge is known; their 401s must not fetch a token each.
        int tokens = 0;
        var handler = new StrictHandler().On(HttpMethod.Get, "/token", (_, _) => StrictHandler.Json($$"""{"token":"T{{++tokens}}","expires_in":300}"""), repeat: true);
        var auth = new RegistryAuthenticator(new HttpClient(handler), Alice(), new RegistryClientOptions());
        using HttpResponseMessage unauthorized = StrictHandler.Unauthorized(Challenge + ",scope=\"repository:app:pull\"");
        CancellationToken ct = TestContext.Current.CancellationToken;

        var first = await auth.OnUnauthorizedAsync(Registry, unauthorized, ["repository:app:pull"], sent: null, ct);
        var second = await auth.OnUnauthorizedAsync(Registry, unauthorized, ["repository:app:pull"], sent: null, ct);
        var afterRejection = await auth.OnUnauthorizedAsync(Registry, unauthorized, ["repository:app:pull"], sent: second, ct);

        Assert.Equal(("Bearer T1", "Bearer T1", "Bearer T2"), (first?.ToString(), second?.ToString(), afterRejection?.ToString()));
    }

    /// <summary>Answers token requests only once released, counting them.</summary>
    private sealed class GatedTokenHandler : HttpMessageHandler
    {
        private int _count;
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Count => _count;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            Entered.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return StrictHandler.Json("""{"token":"T1","expires_in":300}""");
        }
    }

    [Fact]
    public async Task OnUnauthorized_ConcurrentChallenges_ShareOneTokenFetch()
    {
        var handler = new GatedTokenHandler();
        var auth = new RegistryAuthenticator(new HttpClient(handler), Alice(), new RegistryClientOptions());
        using HttpResponseMessage unauthorized = StrictHandler.Unauthorized(Challenge);
        CancellationToken ct = TestContext.Current.CancellationToken;

        Task<System.Net.Http.Headers.AuthenticationHeaderValue?>[] answers =
            [.. Enumerable.Range(0, 4).Select(_ => Task.Run(() => auth.OnUnauthorizedAsync(Registry, unauthorized, ["repository:app:pull,push"], null, ct), ct))];
        await handler.Entered.Task.WaitAsync(ct);
        handler.Release.SetResult();
        var headers = await Task.WhenAll(answers);

        Assert.Equal(1, handler.Count);
        Assert.All(headers, h => Assert.Equal("Bearer T1", h?.ToString()));
    }

    [Theory]
    [InlineData(3, 2, 1)] // a 3 s token is reused 2 s later (a fixed 10 s margin refetched it for every request)
    [InlineData(3, 3, 2)]
    [InlineData(300, 285, 1)]
    [InlineData(300, 291, 2)] // long-lived tokens are renewed 10 s early
    public async Task GetManifest_ShortLivedToken_ReusedUntilNearExpiry(int expiresIn, int secondCallAfter, int expectedTokens)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        int tokens = 0;
        var handler = new StrictHandler()
            .On(HttpMethod.Get, "/v2/app/manifests/1", (_, _) => StrictHandler.Unauthorized(Challenge))
            .On(HttpMethod.Get, "/token", (_, _) => StrictHandler.Json($$"""{"token":"T{{++tokens}}","expires_in":{{expiresIn}}}"""), repeat: true)
            .On(HttpMethod.Get, "/v2/app/manifests/", (_, _) => StrictHandler.Json("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"""), repeat: true);
        RegistryClient client = Client(handler, time: time);
        await client.GetManifestAsync(Registry, "app", "1", TestContext.Current.CancellationToken);

        time.Advance(TimeSpan.FromSeconds(secondCallAfter));
        await client.GetManifestAsync(Registry, "app", "2", TestContext.Current.CancellationToken);

        Assert.Equal(expectedTokens, tokens);
    }

    [Fact]
    public async Task Push_InsufficientScope_MessageNamesTheScopeTheRegistryRequires()
    {
        const string denied = Challenge + ",scope=\"repository:public/x:push,pull\",error=\"insufficient_scope\"";
        var handler = new StrictHandler()
            .On(HttpMethod.Put, "/v2/public/x/manifests/1", (_, _) => StrictHandler.Unauthorized(denied), repeat: true)
            .On(HttpMethod.Get, "/token", (_, _) => StrictHandler.Json("""{"token":"T","expires_in":300}"""), repeat: true);

        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => Client(handler).PushManifestAsync(Registry, "public/x", "1",
            new ManifestUpload("application/vnd.oci.image.manifest.v1+json", "{}"u8.ToArray()), TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.EndsWith("to registry.test/public/x:1 failed: 401 UNAUTHORIZED (authentication required). The registry requires repository:public/x:pull,push " +
            "(insufficient_scope). Run 'dbuild login registry.test' or check the token's scope.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushBlob_MountSourceNotReadable_UploadsInstead()
    {
        const string mountChallenge = Challenge + ",scope=\"repository:app:pull,push repository:secret:pull\",error=\"insufficient_scope\"";
        var handler = new StrictHandler()
            .On(HttpMethod.Head, "/v2/app/blobs/", HttpStatusCode.NotFound)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/?mount=", (_, _) => StrictHandler.Unauthorized(mountChallenge), repeat: true)
            .On(HttpMethod.Get, "/token", (_, _) => StrictHandler.Json("""{"token":"T","expires_in":300}"""), repeat: true)
            .On(HttpMethod.Post, "/v2/app/blobs/uploads/", (_, _) => StrictHandler.Accepted("/v2/app/blobs/uploads/u1"))
            .On(HttpMethod.Put, "/v2/app/blobs/uploads/u1?digest=", HttpStatusCode.Created);
        byte[] data = Encoding.UTF8.GetBytes("layer");
        var blob = new BlobUpload(Oci.Digest.Compute(data), data.Length, () => new MemoryStream(data)) { MountFrom = "secret" };

        BlobPushOutcome outcome = await Client(handler, Alice()).PushBlobAsync(Registry, "app", blob, TestContext.Current.CancellationToken);

        Assert.Equal(BlobPushOutcome.Uploaded, outcome);
        Assert.Equal(data, handler.Requests[^1].Body);
    }

    [Fact]
    public void BaseUri_TlsFirstEvenOnLoopback_HttpWhenConfigured_DockerHubMapsToApiHost()
    {
        var hosts = new RegistryHosts(new Dictionary<string, RegistryHostConfig> { ["plain.test:5000"] = new() { Http = true } });
        var client = new RegistryClient(new HttpClient(), new RegistryClientOptions { Hosts = hosts });

        Assert.Equal("https://127.0.0.1:5000/", client.BaseUri("127.0.0.1:5000").ToString());
        Assert.Equal("https://localhost:5000/", client.BaseUri("localhost:5000").ToString());
        Assert.Equal("http://plain.test:5000/", client.BaseUri("plain.test:5000").ToString());
        Assert.Equal("https://registry-1.docker.io/", client.BaseUri("docker.io").ToString());
        Assert.Equal("https://ghcr.io/", client.BaseUri("ghcr.io").ToString());
    }
}
