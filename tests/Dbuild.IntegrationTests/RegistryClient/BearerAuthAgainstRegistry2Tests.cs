using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Dbuild.Oci;
using Dbuild.Registry.Client;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.RegistryClient;

/// <summary>
/// Bearer token auth of the registry client and the CLI against Debian's registry:2 with <c>auth.token</c>, whose
/// tokens come from a real <see cref="TokenServer"/>: the registry verifies each JWT's signature, issuer, audience,
/// expiry and access claim, so every push and pull here is authorised the way a production registry authorises it.
/// </summary>
public sealed class BearerAuthAgainstRegistry2Tests
{
    private const string AlicePassword = "alice-s3cret";
    private const string PublisherPassword = "publisher-s3cret";

    /// <summary>A token server, and registry:2 trusting it.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private Setup(TempDirectory directory, TokenServer tokens, DistributionRegistry registry) => (Directory, Tokens, Registry) = (directory, tokens, registry);

        public TempDirectory Directory { get; }
        public TokenServer Tokens { get; }
        public DistributionRegistry Registry { get; }
        public string Host => Registry.Host;

        public static async Task<Setup> StartAsync(CancellationToken cancellationToken)
        {
            var directory = new TempDirectory("dbuild-bearer-");
            TokenServer tokens = await TokenServer.StartAsync(directory,
                new Dictionary<string, string> { ["alice"] = AlicePassword, ["publisher"] = PublisherPassword }, cancellationToken);
            DistributionRegistry registry = await DistributionRegistry.StartAsync(cancellationToken, tokenAuth: tokens);
            return new Setup(directory, tokens, registry);
        }

        public Dbuild.Registry.Client.RegistryClient Client(string? user = null, string? password = null) => new(new HttpClient(),
            new RegistryClientOptions { RetryDelay = TimeSpan.FromMilliseconds(10) },
            new StaticCredentialSource(user is null ? new Dictionary<string, RegistryCredential>()
                : new Dictionary<string, RegistryCredential> { [Host] = new(user, password) }));

        public async ValueTask DisposeAsync()
        {
            await Registry.DisposeAsync();
            await Tokens.DisposeAsync();
            Directory.Dispose();
        }
    }

    private sealed record SampleImage(byte[] Config, byte[] Layer, BlobUpload ConfigBlob, BlobUpload LayerBlob, ManifestUpload Manifest)
    {
        /// <summary>An image dbuild's store accepts: one (random, uncompressed) layer and a config naming it as its diff_id.</summary>
        public static SampleImage Create(int layerSize = 100_000)
        {
            byte[] layer = RandomNumberGenerator.GetBytes(layerSize);
            Digest layerDigest = Digest.Compute(layer);
            byte[] config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["{{{layerDigest}}}"]}}""");
            Digest configDigest = Digest.Compute(config);
            string manifest = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[{"mediaType":"{{MediaTypes.OciLayer}}","digest":"{{layerDigest}}","size":{{layer.Length}}}]}""";
            return new SampleImage(config, layer, new BlobUpload(configDigest, config.Length, () => new MemoryStream(config)),
                new BlobUpload(layerDigest, layer.Length, () => new MemoryStream(layer)), new ManifestUpload(MediaTypes.OciManifest, Encoding.UTF8.GetBytes(manifest)));
        }

        public Task<Digest> PushAsync(Dbuild.Registry.Client.RegistryClient client, string registry, string repository, string tag, CancellationToken ct) =>
            client.PushImageAsync(registry, repository, [ConfigBlob, LayerBlob], [Manifest], [tag], ct);
    }

    /// <summary>A bound on every operation below: an auth loop must fail the test, not hang it.</summary>
    private static CancellationTokenSource Bounded(TimeSpan? limit = null)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(limit ?? TimeSpan.FromSeconds(60));
        return source;
    }

    /// <summary>Waits (bounded) until registry:2 refuses the token that request issued: its exp plus the registry's leeway, plus clock granularity.</summary>
    private static async Task WaitUntilRefusedAsync(TokenRequest issued, CancellationToken ct)
    {
        TimeSpan wait = issued.RefusedAfter!.Value + TimeSpan.FromSeconds(1.1) - DateTimeOffset.UtcNow;
        Assert.InRange(wait, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        await Task.Delay(wait, ct);
    }

    [Fact]
    public async Task PushThenPull_AliceWithBearer_RoundTripsBytesWithFewTokens()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        var client = setup.Client("alice", AlicePassword);
        var image = SampleImage.Create();

        Digest pushed = await image.PushAsync(client, setup.Host, "alice/app", "v1", ct);
        IReadOnlyList<TokenRequest> pushTokens = setup.Tokens.Requests;
        setup.Tokens.ClearRequests();
        ResolvedImage pulled = await client.ResolveImageAsync(setup.Host, "alice/app", "v1", Platform.LinuxAmd64, ct);
        using var layer = new MemoryStream();
        await client.CopyBlobAsync(setup.Host, "alice/app", image.LayerBlob.Digest, layer, image.Layer.Length, ct);
        using var config = new MemoryStream();
        await client.CopyBlobAsync(setup.Host, "alice/app", image.ConfigBlob.Digest, config, image.Config.Length, ct);
        IReadOnlyList<TokenRequest> pullTokens = setup.Tokens.Requests;

        Assert.Equal(image.Manifest.Digest, pushed);
        Assert.Equal(pushed, pulled.Manifest.Digest);
        Assert.Equal(image.Manifest.Content.ToArray(), pulled.Manifest.Content.ToArray());
        Assert.Equal(image.Layer, layer.ToArray());
        Assert.Equal(image.Config, config.ToArray());
        // One token for the whole push (2 HEADs, 2 POSTs, 2 PUTs racing, then the manifest PUT), one for the pull.
        TokenRequest pushToken = Assert.Single(pushTokens);
        Assert.Equal(("alice", 200, TokenServer.Service), (pushToken.User, pushToken.Status, pushToken.Service));
        Assert.Equal(["repository:alice/app:pull,push"], pushToken.Scopes);
        Assert.Equal(["repository:alice/app:pull,push"], pushToken.Granted);
        TokenRequest pullToken = Assert.Single(pullTokens);
        Assert.Equal(["repository:alice/app:pull"], pullToken.Scopes);
    }

    [Fact]
    public async Task Registry_WithoutToken_ChallengesWithBearerRealmAndScope()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        using var http = new HttpClient();

        using HttpResponseMessage response = await http.GetAsync(new Uri($"http://{setup.Host}/v2/alice/app/manifests/v1"), ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        AuthenticationHeaderValue challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal($"Bearer realm=\"{setup.Tokens.Realm}\",service=\"{TokenServer.Service}\",scope=\"repository:alice/app:pull\"", challenge.ToString());
    }

    [Fact]
    public async Task Pull_Anonymous_PublicRepository_Works()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        var image = SampleImage.Create();
        await image.PushAsync(setup.Client("publisher", PublisherPassword), setup.Host, "public/x", "1", ct);
        setup.Tokens.ClearRequests();
        var anonymous = setup.Client();

        ResolvedImage pulled = await anonymous.ResolveImageAsync(setup.Host, "public/x", "1", Platform.LinuxAmd64, ct);
        using var layer = new MemoryStream();
        await anonymous.CopyBlobAsync(setup.Host, "public/x", image.LayerBlob.Digest, layer, image.Layer.Length, ct);

        Assert.Equal(image.Manifest.Digest, pulled.Manifest.Digest);
        Assert.Equal(image.Layer, layer.ToArray());
        TokenRequest token = Assert.Single(setup.Tokens.Requests);
        Assert.Null(token.User);
        Assert.Equal(["repository:public/x:pull"], token.Scopes);
        Assert.Equal(["repository:public/x:pull"], token.Granted);
    }

    [Fact]
    public async Task Push_Anonymous_RefusedWithRegistryAndScopeInMessage()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        var anonymous = setup.Client();
        var image = SampleImage.Create();

        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => image.PushAsync(anonymous, setup.Host, "public/x", "1", ct));

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Equal("UNAUTHORIZED", ex.ErrorCode);
        Assert.False(ex.IsTransient);
        Assert.Contains($"{setup.Host}/public/x", ex.Message, StringComparison.Ordinal);
        Assert.Contains("repository:public/x:pull,push", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"dbuild login {setup.Host}", ex.Message, StringComparison.Ordinal);
        Assert.All(setup.Tokens.Requests, r => Assert.Equal((null, 200), (r.User, r.Status)));
        Assert.InRange(setup.Tokens.Requests.Count, 1, 4);
    }

    [Fact]
    public async Task Push_WrongPassword_ClearErrorAfterBoundedTokenRequests()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        var client = setup.Client("alice", "wrong");
        var image = SampleImage.Create();

        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => image.PushAsync(client, setup.Host, "alice/app", "1", ct));

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.False(ex.IsTransient);
        Assert.Contains(setup.Tokens.Realm.GetLeftPart(UriPartial.Path), ex.Message, StringComparison.Ordinal);
        Assert.Contains($"Check the credentials for {setup.Host}", ex.Message, StringComparison.Ordinal);
        Assert.All(setup.Tokens.Requests, r => Assert.Equal(("alice", 401), (r.User, r.Status)));
        Assert.InRange(setup.Tokens.Requests.Count, 1, 2); // at most one per blob pushed in parallel; never retried
    }

    [Fact]
    public async Task Pull_WrongPassword_ClearErrorAfterOneTokenRequest()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        var client = setup.Client("alice", "wrong");

        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(setup.Host, "alice/app", "1", ct));

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Equal(
            $"Getting a token for repository:alice/app:pull from {setup.Tokens.Realm} failed: 401 Unauthorized. Check the credentials for {setup.Host} ('dbuild login {setup.Host}').",
            ex.Message);
        Assert.Single(setup.Tokens.Requests);
    }

    [Fact]
    public async Task PushBlob_MountFromOtherRepository_TokenCoversBothScopes()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        var client = setup.Client("alice", AlicePassword);
        var image = SampleImage.Create();
        Assert.Equal(BlobPushOutcome.Uploaded, await client.PushBlobAsync(setup.Host, "alice/base", image.LayerBlob, ct));
        setup.Tokens.ClearRequests();

        BlobPushOutcome outcome = await client.PushBlobAsync(setup.Host, "alice/app", image.LayerBlob with { MountFrom = "alice/base" }, ct);

        Assert.Equal(BlobPushOutcome.Mounted, outcome);
        TokenRequest token = Assert.Single(setup.Tokens.Requests);
        Assert.Equal(["repository:alice/app:pull,push", "repository:alice/base:pull"], token.Scopes.Order(StringComparer.Ordinal));
        Assert.Equal(["repository:alice/app:pull,push", "repository:alice/base:pull"], token.Granted.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task PushBlob_MountFromUnreadableRepository_FallsBackToUpload()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        setup.Tokens.Grants = [.. setup.Tokens.Grants, ("publisher", "secret/", ["pull", "push"])];
        var image = SampleImage.Create();
        await setup.Client("publisher", PublisherPassword).PushBlobAsync(setup.Host, "secret/base", image.LayerBlob, ct);
        var client = setup.Client("alice", AlicePassword);
        setup.Tokens.ClearRequests();

        BlobPushOutcome outcome = await client.PushBlobAsync(setup.Host, "alice/app", image.LayerBlob with { MountFrom = "secret/base" }, ct);

        Assert.Equal(BlobPushOutcome.Uploaded, outcome);
        Assert.Equal(image.Layer.Length, await client.StatBlobAsync(setup.Host, "alice/app", image.LayerBlob.Digest, ct));
        Assert.Equal(["repository:alice/app:pull,push"], setup.Tokens.Requests[0].Granted); // asked for secret/base too, not granted
        Assert.Contains("repository:secret/base:pull", setup.Tokens.Requests[0].Scopes);
    }

    [Fact]
    public async Task GetManifest_AfterTokenExpires_FetchesNewToken()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        var image = SampleImage.Create();
        await image.PushAsync(setup.Client("alice", AlicePassword), setup.Host, "alice/app", "1", ct);
        setup.Tokens.Lifetime = TimeSpan.FromSeconds(3);
        setup.Tokens.ClearRequests();
        var client = setup.Client("alice", AlicePassword);

        await client.GetManifestAsync(setup.Host, "alice/app", "1", ct);
        await client.GetManifestAsync(setup.Host, "alice/app", image.Manifest.Digest.ToString(), ct); // within the lifetime: the same token
        TokenRequest first = Assert.Single(setup.Tokens.Requests);
        await WaitUntilRefusedAsync(first, ct);
        using var http = new HttpClient();
        using var stale = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{setup.Host}/v2/alice/app/manifests/1"));
        stale.Headers.Authorization = new AuthenticationHeaderValue("Bearer", first.Token);
        using HttpResponseMessage refused = await http.SendAsync(stale, ct);
        ManifestResponse manifest = await client.GetManifestAsync(setup.Host, "alice/app", "1", ct);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode); // the registry really refuses the first token now
        Assert.Contains("error=\"invalid_token\"", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(image.Manifest.Digest, manifest.Digest);
        Assert.Equal(2, setup.Tokens.Requests.Count);
        Assert.NotEqual(first.Token, setup.Tokens.Requests[1].Token);
    }

    [Fact]
    public async Task GetManifest_TokenRefusedBeforeAnnouncedExpiry_FetchesNewTokenOnce()
    {
        using CancellationTokenSource timeout = Bounded();
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        var image = SampleImage.Create();
        await image.PushAsync(setup.Client("alice", AlicePassword), setup.Host, "alice/app", "1", ct);
        setup.Tokens.Lifetime = TimeSpan.FromSeconds(2);
        setup.Tokens.AnnouncedLifetime = TimeSpan.FromMinutes(5); // the client believes the token is good for minutes
        setup.Tokens.ClearRequests();
        var client = setup.Client("alice", AlicePassword);
        await client.GetManifestAsync(setup.Host, "alice/app", "1", ct);
        await WaitUntilRefusedAsync(Assert.Single(setup.Tokens.Requests), ct);

        ManifestResponse manifest = await client.GetManifestAsync(setup.Host, "alice/app", "1", ct);

        Assert.Equal(image.Manifest.Digest, manifest.Digest);
        Assert.Equal(2, setup.Tokens.Requests.Count);
    }

    [Fact]
    public async Task Cli_PullAndPush_CredentialsFromDockerConfig()
    {
        using CancellationTokenSource timeout = Bounded(TimeSpan.FromMinutes(3));
        CancellationToken ct = timeout.Token;
        await using Setup setup = await Setup.StartAsync(ct);
        var image = SampleImage.Create();
        await image.PushAsync(setup.Client("alice", AlicePassword), setup.Host, "alice/src", "1", ct);
        string dockerConfig = setup.Directory.Combine("docker");
        Directory.CreateDirectory(dockerConfig);
        string auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:" + AlicePassword));
        await File.WriteAllTextAsync(Path.Combine(dockerConfig, "config.json"), 
            System.Text.Json.JsonSerializer.Serialize(new { auths = new Dictionary<string, object> { [setup.Host] = new { auth } } }), ct);
        var environment = new Dictionary<string, string?> { ["DOCKER_CONFIG"] = dockerConfig };
        string root = setup.Directory.Combine("root");
        setup.Tokens.ClearRequests();

        ProcessResult pull = await DbuildCli.RunAsync(["--root", root, "pull", $"{setup.Host}/alice/src:1"], ct, environment);
        ProcessResult push = await DbuildCli.RunAsync(["--root", root, "push", $"{setup.Host}/alice/src:1", $"{setup.Host}/alice/cli:2"], ct, environment);
        ProcessResult anonymous = await DbuildCli.RunAsync(["--root", setup.Directory.Combine("root2"), "pull", $"{setup.Host}/alice/src:1"], ct,
            new Dictionary<string, string?> { ["DOCKER_CONFIG"] = setup.Directory.Combine("empty") });
        ManifestResponse pushed = await setup.Client("alice", AlicePassword).GetManifestAsync(setup.Host, "alice/cli", "2", ct);

        pull.EnsureSuccess();
        push.EnsureSuccess();
        Assert.Contains($"Digest: {image.Manifest.Digest}", pull.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"2: digest: {image.Manifest.Digest}", push.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(image.Manifest.Digest, pushed.Digest);
        Assert.Contains(setup.Tokens.Requests, r => r.User == "alice" && r.Scopes.SequenceEqual(["repository:alice/src:pull"]));
        Assert.Contains(setup.Tokens.Requests, r => r.User == "alice" && r.Scopes.Contains("repository:alice/cli:pull,push") && r.Granted.Contains("repository:alice/cli:pull,push"));
        Assert.Equal(1, anonymous.ExitCode);
        Assert.Contains($"{setup.Host}/alice/src", anonymous.StandardError, StringComparison.Ordinal);
        Assert.Contains($"dbuild login {setup.Host}", anonymous.StandardError, StringComparison.Ordinal);
    }
}
