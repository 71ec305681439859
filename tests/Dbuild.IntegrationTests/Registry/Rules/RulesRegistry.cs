using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.Rules;

/// <summary>
/// A real <c>dbuild registry serve</c> with the built-in token issuer, an htpasswd file of alice (an admin), ci-robot
/// and carol (password: NAME-pw), and a rules file, which <see cref="WriteRulesAsync"/> rewrites while it serves.
/// </summary>
internal sealed class RulesRegistry : IAsyncDisposable
{
    /// <summary>Admins everything; any signed-in account lists the catalog and owns NAME/**; ci-robot team-*/**; anyone pulls public/**.</summary>
    public const string DefaultRules = """
        groups:
          admins: [alice]
        rules:
          - account: "group:admins"
            name: "**"
            actions: [pull, push, delete, catalog]
          - account: "+"
            actions: [catalog]
          - account: "+"
            name: "${account}/**"
            actions: [pull, push]
          - account: ci-robot
            name: "team-*/**"
            actions: [pull, push]
          - account: "*"
            name: "public/**"
            actions: [pull]
        """;

    private readonly TempDirectory _work;
    private readonly HttpClient _http = new();

    private RulesRegistry(TempDirectory work, RegistryServer server, string rulesPath) => (_work, Server, RulesPath) = (work, server, rulesPath);

    public RegistryServer Server { get; }

    public string RulesPath { get; }

    public string Host => Server.Host;

    public string WorkPath => _work.Path;

    /// <summary>Starts it; <paramref name="extra"/> is more top-level config (e.g. <c>ui:</c>).</summary>
    public static async Task<RulesRegistry> StartAsync(CancellationToken cancellationToken, string extra = "")
    {
        var work = new TempDirectory("dbuild-rules-");
        try
        {
            string htpasswd = work.Combine("htpasswd");
            await File.WriteAllTextAsync(htpasswd,
                string.Concat(new[] { "alice", "ci-robot", "carol" }.Select(u => $"{u}:{BCrypt.Net.BCrypt.HashPassword(u + "-pw", 5)}\n")), cancellationToken);
            string rules = work.Combine("acl.yml");
            await File.WriteAllTextAsync(rules, DefaultRules, cancellationToken);
            RegistryServer server = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), cancellationToken,
                extra: $"auth:\n  token:\n    builtin:\n      htpasswd: {htpasswd}\n      acl: {rules}\n{extra}");
            return new RulesRegistry(work, server, rules);
        }
        catch
        {
            work.Dispose();
            throw;
        }
    }

    /// <summary>Replaces the rules file (a new write time, as an editor's save gives it).</summary>
    public async Task WriteRulesAsync(string yaml, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(RulesPath, yaml, cancellationToken);
        File.SetLastWriteTimeUtc(RulesPath, DateTime.UtcNow.AddSeconds(1));
    }

    /// <summary>Copies the offline busybox image into <paramref name="repository"/> as alice (the admin), with skopeo.</summary>
    public async Task SeedAsync(string repository, CancellationToken cancellationToken)
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        await Tools.SkopeoAsync(cancellationToken, "copy", "--dest-tls-verify=false", "--dest-creds", "alice:alice-pw",
            $"oci:{busybox}:latest", $"docker://{Host}/{repository}:1");
    }

    /// <summary>A token from the realm (<c>/auth/token</c>) for <paramref name="account"/> (null: anonymous).</summary>
    public async Task<string> TokenAsync(string? account, CancellationToken cancellationToken, params string[] scopes)
    {
        string query = string.Concat(scopes.Select(s => "&scope=" + Uri.EscapeDataString(s)));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Server.BaseUrl}/auth/token?service=dbuild-registry{query}");
        if (account is not null) { request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{account}:{account}-pw"))); }
        using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"token for {account ?? "anonymous"}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["token"]!.GetValue<string>();
    }

    /// <summary>What the token for <paramref name="account"/> grants, as the token endpoint's scope string (the POST form answers with it).</summary>
    public async Task<string> GrantedScopeAsync(string account, string scope, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent([new("grant_type", "password"), new("username", account), new("password", account + "-pw"),
            new("service", "dbuild-registry"), new("client_id", "dbuild-tests"), new("scope", scope)]);
        using HttpResponseMessage response = await _http.PostAsync($"{Server.BaseUrl}/auth/token", form, cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!["scope"]!.GetValue<string>();
    }

    /// <summary>Sends a request to the registry with <paramref name="token"/> as its bearer token.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Server.BaseUrl + path);
        if (token is not null) { request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token); }
        return await _http.SendAsync(request, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Server.DisposeAsync();
        _work.Dispose();
    }
}
