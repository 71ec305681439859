using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dbuild.Registry.Auth;
using Microsoft.Extensions.DependencyInjection;

namespace Dbuild.Registry.Tests;

/// <summary>
/// The built-in issuer with rules (a test <see cref="IAccessRules"/>; the rules file is slice B's): tokens grant only what
/// the rules allow, so another user and a user without the action get <c>insufficient_scope</c>; the catalog lists what
/// the account may pull; a mount needs pull on the source; tokens expire (with distribution's 60 s leeway).
/// </summary>
public sealed class BuiltinTokenRulesTests : IDisposable
{
    private readonly Dbuild.Testing.TempDirectory _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    /// <summary>root: everything; alice: pull and push on alice/*; anyone: pull public/*; the catalog for root and alice.</summary>
    private sealed class TestRules : IAccessRules
    {
        public IReadOnlySet<string> Grant(string? account, string repository, IReadOnlyCollection<string> requested) =>
            requested.Where(action => account == "root"
                || (account == "alice" && repository.StartsWith("alice/", StringComparison.Ordinal) && action is "pull" or "push")
                || (repository.StartsWith("public/", StringComparison.Ordinal) && action == "pull")).ToHashSet();

        public bool MayListCatalog(string? account) => account is "root" or "alice";
    }

    private async Task<RegistryFixture> StartAsync()
    {
        string htpasswd = _dir.Combine("htpasswd");
        await File.WriteAllTextAsync(htpasswd, string.Concat(new[] { "root", "alice", "bob" }.Select(u => $"{u}:{BCrypt.Net.BCrypt.HashPassword(u + "-pw", 4)}\n")), Ct);
        RegistryFixture registry = await RegistryFixture.StartAsync(o => o.TokenBuiltinHtpasswd = htpasswd, s => s.AddSingleton<IAccessRules, TestRules>());
        registry.Client.DefaultRequestHeaders.Authorization = await BearerAsync(registry, "root", "repository:alice/app:pull,push", "repository:public/base:pull,push", "repository:bob/x:pull,push");
        await PushImageAsync(registry, "alice/app");
        await PushImageAsync(registry, "public/base");
        await PushImageAsync(registry, "bob/x");
        registry.Client.DefaultRequestHeaders.Authorization = null;
        return registry;
    }

    private static async Task PushImageAsync(RegistryFixture registry, string name)
    {
        using HttpResponseMessage put = await registry.PutManifestAsync(name, "1", await registry.PushImageBlobsAsync(name));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    private static async Task<AuthenticationHeaderValue> BearerAsync(RegistryFixture registry, string? user, params string[] scopes)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/token?service=dbuild-registry" + string.Concat(scopes.Select(s => "&scope=" + Uri.EscapeDataString(s))));
        if (user is not null) { request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{user}-pw"))); }
        using HttpResponseMessage response = await registry.Client.SendAsync(request, Ct);
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return new AuthenticationHeaderValue("Bearer", JsonNode.Parse(body)!["token"]!.GetValue<string>());
    }

    private static async Task<HttpResponseMessage> SendAsync(RegistryFixture registry, HttpMethod method, string path, AuthenticationHeaderValue? auth)
    {
        using var request = new HttpRequestMessage(method, path) { Headers = { Authorization = auth } };
        return await registry.Client.SendAsync(request, Ct);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string error, string scope)
    {
        await ErrorBody.AssertAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal($"Bearer realm=\"http://localhost/auth/token\",service=\"dbuild-registry\",scope=\"{scope}\",error=\"{error}\"",
            response.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain("schemaVersion", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherUser_AndAUserWithoutTheAction_GetInsufficientScope()
    {
        await using RegistryFixture registry = await StartAsync();
        AuthenticationHeaderValue bob = await BearerAsync(registry, "bob", "repository:alice/app:pull");
        using HttpResponseMessage other = await SendAsync(registry, HttpMethod.Get, "/v2/alice/app/tags/list", bob);
        await AssertRefusedAsync(other, "insufficient_scope", "repository:alice/app:pull");

        AuthenticationHeaderValue alice = await BearerAsync(registry, "alice", "repository:alice/app:pull,push,delete");
        using HttpResponseMessage delete = await SendAsync(registry, HttpMethod.Delete, "/v2/alice/app/manifests/1", alice);
        await AssertRefusedAsync(delete, "insufficient_scope", "repository:alice/app:delete");
        using HttpResponseMessage pull = await SendAsync(registry, HttpMethod.Get, "/v2/alice/app/manifests/1", alice);
        Assert.Equal(HttpStatusCode.OK, pull.StatusCode);

        AuthenticationHeaderValue anonymous = await BearerAsync(registry, null, "repository:public/base:pull,push", "repository:alice/app:pull");
        using HttpResponseMessage publicPull = await SendAsync(registry, HttpMethod.Get, "/v2/public/base/manifests/1", anonymous);
        Assert.Equal(HttpStatusCode.OK, publicPull.StatusCode);
        using HttpResponseMessage publicPush = await SendAsync(registry, HttpMethod.Post, "/v2/public/base/blobs/uploads/", anonymous);
        await AssertRefusedAsync(publicPush, "insufficient_scope", "repository:public/base:pull,push");
        using HttpResponseMessage privatePull = await SendAsync(registry, HttpMethod.Get, "/v2/alice/app/manifests/1", anonymous);
        await AssertRefusedAsync(privatePull, "insufficient_scope", "repository:alice/app:pull");
    }

    [Fact]
    public async Task Catalog_ListsWhatTheAccountMayPull_AndNeedsTheCatalogRule()
    {
        await using RegistryFixture registry = await StartAsync();
        AuthenticationHeaderValue alice = await BearerAsync(registry, "alice", "registry:catalog:*");
        using HttpResponseMessage listed = await SendAsync(registry, HttpMethod.Get, "/v2/_catalog", alice);
        Assert.Equal("{\"repositories\":[\"alice/app\",\"public/base\"]}", await listed.Content.ReadAsStringAsync(Ct));
        AuthenticationHeaderValue root = await BearerAsync(registry, "root", "registry:catalog:*");
        using HttpResponseMessage all = await SendAsync(registry, HttpMethod.Get, "/v2/_catalog", root);
        Assert.Equal("{\"repositories\":[\"alice/app\",\"bob/x\",\"public/base\"]}", await all.Content.ReadAsStringAsync(Ct));
        AuthenticationHeaderValue bob = await BearerAsync(registry, "bob", "registry:catalog:*");
        using HttpResponseMessage refused = await SendAsync(registry, HttpMethod.Get, "/v2/_catalog", bob);
        await AssertRefusedAsync(refused, "insufficient_scope", "registry:catalog:*");
    }

    [Fact]
    public async Task Mount_NeedsPullOnTheSource()
    {
        await using RegistryFixture registry = await StartAsync();
        AuthenticationHeaderValue root = await BearerAsync(registry, "root", "repository:bob/x:pull");
        using HttpResponseMessage manifest = await SendAsync(registry, HttpMethod.Get, "/v2/bob/x/manifests/1", root);
        string digest = JsonNode.Parse(await manifest.Content.ReadAsStringAsync(Ct))!["layers"]![0]!["digest"]!.GetValue<string>();
        AuthenticationHeaderValue alice = await BearerAsync(registry, "alice", "repository:alice/new:pull,push", "repository:bob/x:pull");
        using HttpResponseMessage refused = await SendAsync(registry, HttpMethod.Post, $"/v2/alice/new/blobs/uploads/?mount={digest}&from=bob/x", alice);
        await AssertRefusedAsync(refused, "insufficient_scope", "repository:alice/new:pull,push repository:bob/x:pull");
        using HttpResponseMessage ownBlob = await SendAsync(registry, HttpMethod.Get, $"/v2/alice/new/blobs/{digest}", await BearerAsync(registry, "alice", "repository:alice/new:pull"));
        Assert.Equal(HttpStatusCode.NotFound, ownBlob.StatusCode);
    }

    [Fact]
    public async Task Token_ExpiresAfterItsLifetimeAndTheLeeway()
    {
        await using RegistryFixture registry = await StartAsync();
        AuthenticationHeaderValue alice = await BearerAsync(registry, "alice", "repository:alice/app:pull");
        registry.Time.Advance(TimeSpan.FromMinutes(5) + TokenVerifier.Leeway);
        using HttpResponseMessage stillValid = await SendAsync(registry, HttpMethod.Get, "/v2/alice/app/tags/list", alice);
        Assert.Equal(HttpStatusCode.OK, stillValid.StatusCode);
        registry.Time.Advance(TimeSpan.FromSeconds(1));
        using HttpResponseMessage expired = await SendAsync(registry, HttpMethod.Get, "/v2/alice/app/tags/list", alice);
        await AssertRefusedAsync(expired, "invalid_token", "repository:alice/app:pull");
    }
}
