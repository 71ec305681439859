using System.Net;
using System.Text.Json.Nodes;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.Rules;

/// <summary>
/// The rules file (<c>auth.token.builtin.acl</c>) behind a real <c>dbuild registry serve</c>, with docker 20.10, podman
/// and skopeo as the clients: anonymous pulls of public repositories, a CI account held to its namespace, rules edited
/// on disk taking effect without a restart, a catalog filtered to what the account may pull, and mounts needing pull
/// on the source.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class AccessRulesEndToEndTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Output(ProcessResult result) => result.StandardOutput + result.StandardError;

    [Fact]
    public async Task Docker_Anonymous_PullsAPublicRepository_ButItsPushIsRefused()
    {
        string dockerHost = Prerequisites.RequireDocker();
        await using RulesRegistry registry = await StartWithPublicBusyboxAsync();
        string config = DockerConfig(registry);
        string image = $"{registry.Host}/public/busybox:1";
        string pushed = $"{registry.Host}/public/busybox:2";
        try
        {
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", image)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", image, pushed)).EnsureSuccess();
            await AssertPushDeniedAsync(dockerHost, config, pushed);
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, config, null, CancellationToken.None, "rmi", "-f", image, pushed);
        }
        using HttpResponseMessage tag = await registry.SendAsync(HttpMethod.Get, "/v2/public/busybox/manifests/2", await registry.TokenAsync(null, Ct, "repository:public/busybox:pull"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, tag.StatusCode); // nothing was written
        Assert.Matches(@"(POST|PUT|PATCH) /v2/public/busybox/\S* 401", registry.Server.Output);
    }

    [Fact]
    public async Task Docker_CiAccount_PushesToItsNamespace_AndIsRefusedElsewhere()
    {
        string dockerHost = Prerequisites.RequireDocker();
        await using RulesRegistry registry = await StartWithPublicBusyboxAsync();
        string config = DockerConfig(registry);
        string image = $"{registry.Host}/public/busybox:1";
        string team = $"{registry.Host}/team-web/app:1";
        string elsewhere = $"{registry.Host}/other/app:1";
        try
        {
            (await Tools.DockerAsync(dockerHost, config, "ci-robot-pw", Ct, "login", "-u", "ci-robot", "--password-stdin", registry.Host)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", image)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", image, team)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", image, elsewhere)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "push", team)).EnsureSuccess();
            await AssertPushDeniedAsync(dockerHost, config, elsewhere);
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, config, null, CancellationToken.None, "rmi", "-f", image, team, elsewhere);
        }
        // The team repository holds the image; ci-robot may not even read alice's namespace.
        string robot = await registry.TokenAsync("ci-robot", Ct, "repository:team-web/app:pull");
        using HttpResponseMessage manifest = await registry.SendAsync(HttpMethod.Head, "/v2/team-web/app/manifests/1", robot, Ct);
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal("", await registry.GrantedScopeAsync("ci-robot", "repository:alice/app:pull", Ct));
        Assert.Contains("user=ci-robot", registry.Server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Podman_RulesChangedOnDisk_TakeEffectWithoutARestart_AndABrokenEditKeepsThem()
    {
        await using RulesRegistry registry = await StartWithPublicBusyboxAsync();
        string state = Path.Combine(registry.WorkPath, "podman");
        string image = $"{registry.Host}/public/busybox:1";
        string[] push = ["push", "--tls-verify=false", "--creds", "ci-robot:ci-robot-pw", image, $"docker://{registry.Host}/other/app:1"];
        try
        {
            (await Tools.PodmanAsync(state, Ct, "pull", "--tls-verify=false", image)).EnsureSuccess();
            ProcessResult refused = await Tools.PodmanAsync(state, Ct, push);
            Assert.True(refused.ExitCode != 0, Output(refused));

            // ci-robot gets other/** too; the registry keeps running.
            await registry.WriteRulesAsync(RulesRegistry.DefaultRules + "\n  - {account: ci-robot, name: \"other/**\", actions: [pull, push]}\n", Ct);
            await WaitForGrantAsync(registry, "ci-robot", "repository:other/app:pull,push", "repository:other/app:pull,push");
            (await Tools.PodmanAsync(state, Ct, push)).EnsureSuccess();
            Assert.Contains("Access rules reloaded", registry.Server.Output, StringComparison.Ordinal);

            // A broken edit is logged with its place, and the rules in force stay.
            await registry.WriteRulesAsync(RulesRegistry.DefaultRules + "\n  - {account: ci-robot, name: \"Other/**\", actions: [pull, push]}\n", Ct);
            await WaitForOutputAsync(registry, $"{registry.RulesPath}:18:");
            Assert.Contains($"{registry.RulesPath}:18:31: 'Other/**': repository names are lower case", registry.Server.Output, StringComparison.Ordinal);
            Assert.Equal("repository:other/app:pull,push", await registry.GrantedScopeAsync("ci-robot", "repository:other/app:pull,push", Ct));
        }
        finally
        {
            await Tools.PodmanAsync(state, CancellationToken.None, "rmi", "-a", "-f");
        }
    }

    [Fact]
    public async Task Catalog_ListsOnlyWhatTheAccountMayPull()
    {
        await using RulesRegistry registry = await RulesRegistry.StartAsync(Ct);
        foreach (string repository in new[] { "public/busybox", "team-web/app", "carol/app", "alice/private" }) { await registry.SeedAsync(repository, Ct); }

        Assert.Equal(["alice/private", "carol/app", "public/busybox", "team-web/app"], await CatalogAsync(registry, "alice"));
        Assert.Equal(["carol/app", "public/busybox"], await CatalogAsync(registry, "carol"));
        Assert.Equal(["public/busybox", "team-web/app"], await CatalogAsync(registry, "ci-robot"));

        // Anonymous: no rule gives it catalog, so its token lacks registry:catalog:* and the listing is refused.
        string anonymous = await registry.TokenAsync(null, Ct, "registry:catalog:*");
        using HttpResponseMessage refused = await registry.SendAsync(HttpMethod.Get, "/v2/_catalog", anonymous, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("error=\"insufficient_scope\"", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        // Without a catalog rule for signed-in accounts, carol loses the listing too.
        await registry.WriteRulesAsync(RulesRegistry.DefaultRules.Replace("actions: [catalog]", "actions: []", StringComparison.Ordinal), Ct);
        await WaitForGrantAsync(registry, "carol", "registry:catalog:*", "");
        Assert.Equal("registry:catalog:*", await registry.GrantedScopeAsync("alice", "registry:catalog:*", Ct));
    }

    [Fact]
    public async Task CrossRepositoryMount_NeedsPullOnTheSource()
    {
        await using RulesRegistry registry = await RulesRegistry.StartAsync(Ct);
        await registry.SeedAsync("team-web/app", Ct);
        await registry.SeedAsync("public/busybox", Ct);
        string admin = await registry.TokenAsync("alice", Ct, "repository:public/busybox:pull");
        using HttpResponseMessage manifest = await registry.SendAsync(HttpMethod.Get, "/v2/public/busybox/manifests/1", admin, Ct);
        string layer = JsonNode.Parse(await manifest.Content.ReadAsStringAsync(Ct))!["layers"]![0]!["digest"]!.GetValue<string>();

        // carol may push carol/app but not pull team-web/app: her token leaves the source out, and the mount is refused.
        string token = await registry.TokenAsync("carol", Ct, "repository:carol/app:pull,push", "repository:team-web/app:pull");
        using HttpResponseMessage refused = await registry.SendAsync(HttpMethod.Post, $"/v2/carol/app/blobs/uploads/?mount={layer}&from=team-web/app", token, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        string challenge = refused.Headers.WwwAuthenticate.ToString();
        Assert.Contains("repository:team-web/app:pull", challenge, StringComparison.Ordinal);
        Assert.Contains("error=\"insufficient_scope\"", challenge, StringComparison.Ordinal);
        using HttpResponseMessage notThere = await registry.SendAsync(HttpMethod.Head, $"/v2/carol/app/blobs/{layer}", token, Ct);
        Assert.Equal(HttpStatusCode.NotFound, notThere.StatusCode);

        // From public/busybox, which anyone may pull, the same blob mounts.
        token = await registry.TokenAsync("carol", Ct, "repository:carol/app:pull,push", "repository:public/busybox:pull");
        using HttpResponseMessage mounted = await registry.SendAsync(HttpMethod.Post, $"/v2/carol/app/blobs/uploads/?mount={layer}&from=public/busybox", token, Ct);
        Assert.Equal(HttpStatusCode.Created, mounted.StatusCode);
        Assert.Equal($"/v2/carol/app/blobs/{layer}", mounted.Headers.Location?.OriginalString);
        using HttpResponseMessage there = await registry.SendAsync(HttpMethod.Head, $"/v2/carol/app/blobs/{layer}", token, Ct);
        Assert.Equal(HttpStatusCode.OK, there.StatusCode);
    }

    [Fact]
    public async Task Serve_MalformedRulesFile_StopsWithOneLineNamingTheKeyAndThePlace()
    {
        using var work = new TempDirectory();
        string htpasswd = work.Combine("htpasswd");
        string rules = work.Combine("acl.yml");
        await File.WriteAllTextAsync(htpasswd, "", Ct);
        await File.WriteAllTextAsync(rules, "rules:\n  - account: ci-robot\n    name: \"team-*/**\"\n    actions: [pull, pushh]\n", Ct);
        int port = RegistryServer.FreePort();
        string config = RegistryServer.WriteConfig(work.Path, work.Combine("data"), port,
            extra: $"auth:\n  token:\n    builtin:\n      htpasswd: {htpasswd}\n      acl: {rules}\n");
        ProcessResult result = await ProcessRunner.RunAsync("dotnet", [RegistryServer.DbuildDll, "registry", "serve", "--config", config], Ct,
            timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: Invalid registry configuration: auth.token.builtin.acl: {rules}:4:21: unknown action 'pushh' (pull, push, delete, catalog, or \"*\" for all of them)",
            result.StandardError.Trim());
    }

    private static async Task<RulesRegistry> StartWithPublicBusyboxAsync()
    {
        RulesRegistry registry = await RulesRegistry.StartAsync(Ct);
        try { await registry.SeedAsync("public/busybox", Ct); }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
        return registry;
    }

    private static string DockerConfig(RulesRegistry registry)
    {
        string config = Path.Combine(registry.WorkPath, "docker-config");
        Directory.CreateDirectory(config);
        return config;
    }

    // What docker 20.10 says when the token it got lacks push (as with registry:2 behind a token server).
    private static async Task AssertPushDeniedAsync(string dockerHost, string config, string reference)
    {
        ProcessResult push = await Tools.DockerAsync(dockerHost, config, null, Ct, "push", reference);
        Assert.True(push.ExitCode != 0 && Output(push).Contains("denied: requested access to the resource is denied", StringComparison.Ordinal), Output(push));
    }

    private static async Task<string[]> CatalogAsync(RulesRegistry registry, string account)
    {
        string token = await registry.TokenAsync(account, Ct, "registry:catalog:*");
        using HttpResponseMessage response = await registry.SendAsync(HttpMethod.Get, "/v2/_catalog", token, Ct);
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return [.. JsonNode.Parse(body)!["repositories"]!.AsArray().Select(r => r!.GetValue<string>())];
    }

    // The registry looks at the file at most once a second; a token request is the cheapest way to see it did.
    private static async Task WaitForGrantAsync(RulesRegistry registry, string account, string scope, string expected)
    {
        string granted = "";
        for (int attempt = 0; attempt < 50; attempt++)
        {
            granted = await registry.GrantedScopeAsync(account, scope, Ct);
            if (granted == expected) { return; }
            await Task.Delay(200, Ct);
        }
        Assert.Fail($"after 10 s {account} is still granted '{granted}' for '{scope}', not '{expected}'");
    }

    private static async Task WaitForOutputAsync(RulesRegistry registry, string text)
    {
        for (int attempt = 0; attempt < 50 && !registry.Server.Output.Contains(text, StringComparison.Ordinal); attempt++)
        {
            await registry.GrantedScopeAsync("alice", "repository:x/y:pull", Ct); // a question makes the registry look at the file
            await Task.Delay(200, Ct);
        }
    }
}
