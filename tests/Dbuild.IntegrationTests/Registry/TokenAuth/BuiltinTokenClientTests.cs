using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.TokenAuth;

/// <summary>
/// The built-in token issuer with real clients: docker 20.10 login/push/pull (docker keeps the refresh token, not the
/// password), podman and skopeo with credentials, and the token endpoint's GET and POST forms across two replicas sharing
/// one storage (and so one generated signing key).
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class BuiltinTokenClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> WriteHtpasswdAsync(TempDirectory work, params (string User, string Password)[] users)
    {
        string htpasswdTool = Prerequisites.RequireTool("htpasswd", "apache2-utils");
        string path = work.Combine("htpasswd");
        string text = "";
        foreach ((string user, string password) in users)
        {
            text += (await ProcessRunner.RunAsync(htpasswdTool, ["-Bbn", user, password], Ct)).EnsureSuccess().StandardOutput.Trim() + "\n";
        }
        await File.WriteAllTextAsync(path, text, Ct);
        return path;
    }

    private static string BuiltinAuth(string htpasswd) => $"auth:\n  token:\n    builtin:\n      htpasswd: {htpasswd}\n";

    [Fact]
    public async Task Docker_LoginPushPull_StoresTheRefreshToken_AndIsRefusedAfterLogout()
    {
        string dockerHost = Prerequisites.RequireDocker();
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        string config = work.Combine("docker-config");
        Directory.CreateDirectory(config);
        string htpasswd = await WriteHtpasswdAsync(work, ("alice", "wonderland"));
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct, extra: BuiltinAuth(htpasswd));
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", "--dest-creds", "alice:wonderland", $"oci:{busybox}:latest", $"docker://{registry.Host}/alice/busybox:1");

        ProcessResult badLogin = await Tools.DockerAsync(dockerHost, config, "wrong", Ct, "login", "-u", "alice", "--password-stdin", registry.Host);
        Assert.NotEqual(0, badLogin.ExitCode);
        (await Tools.DockerAsync(dockerHost, config, "wonderland", Ct, "login", "-u", "alice", "--password-stdin", registry.Host)).EnsureSuccess();
        JsonNode stored = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(config, "config.json"), Ct))!["auths"]![registry.Host]!;
        Assert.False(string.IsNullOrEmpty(stored["identitytoken"]?.GetValue<string>()), stored.ToJsonString());
        Assert.Equal("alice:", Encoding.UTF8.GetString(Convert.FromBase64String(stored["auth"]!.GetValue<string>()))); // no password kept

        string image = $"{registry.Host}/alice/busybox:1";
        string copy = $"{registry.Host}/alice/copy:1";
        try
        {
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", image)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "tag", image, copy)).EnsureSuccess();
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "push", copy)).EnsureSuccess();
            Assert.Contains("POST /v2/alice/copy/blobs/uploads/", registry.Output, StringComparison.Ordinal);
            Assert.Contains("user=alice", registry.Output, StringComparison.Ordinal);
            (await Tools.DockerAsync(dockerHost, config, null, Ct, "logout", registry.Host)).EnsureSuccess();
            await Tools.DockerAsync(dockerHost, config, null, Ct, "rmi", "-f", image, copy);
            ProcessResult refused = await Tools.DockerAsync(dockerHost, config, null, Ct, "pull", copy);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("denied", refused.StandardError + refused.StandardOutput, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await Tools.DockerAsync(dockerHost, config, null, CancellationToken.None, "rmi", "-f", image, copy);
        }
        Assert.DoesNotContain("wonderland", registry.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PodmanAndSkopeo_PushAndPullWithCredentials_AndAreRefusedWithout()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        string htpasswd = await WriteHtpasswdAsync(work, ("ci", "robot-secret"));
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct, extra: BuiltinAuth(htpasswd));
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", "--dest-creds", "ci:robot-secret", $"oci:{busybox}:latest", $"docker://{registry.Host}/ci/busybox:1");
        string inspected = await Tools.SkopeoAsync(Ct, "inspect", "--tls-verify=false", "--creds", "ci:robot-secret", $"docker://{registry.Host}/ci/busybox:1");
        Assert.Contains("\"Digest\"", inspected, StringComparison.Ordinal);
        string skopeo = Prerequisites.RequireTool("skopeo", "skopeo");
        ProcessResult anonymous = await ProcessRunner.RunAsync(skopeo, ["--insecure-policy", "inspect", "--tls-verify=false", "--no-creds", $"docker://{registry.Host}/ci/busybox:1"], Ct);
        Assert.NotEqual(0, anonymous.ExitCode);
        ProcessResult wrong = await ProcessRunner.RunAsync(skopeo, ["--insecure-policy", "inspect", "--tls-verify=false", "--creds", "ci:wrong", $"docker://{registry.Host}/ci/busybox:1"], Ct);
        Assert.NotEqual(0, wrong.ExitCode);

        string state = work.Combine("podman");
        try
        {
            (await Tools.PodmanAsync(state, Ct, "pull", "--tls-verify=false", "--creds", "ci:robot-secret", $"{registry.Host}/ci/busybox:1")).EnsureSuccess();
            (await Tools.PodmanAsync(state, Ct, "push", "--tls-verify=false", "--creds", "ci:robot-secret", $"{registry.Host}/ci/busybox:1", $"docker://{registry.Host}/ci/podman:2")).EnsureSuccess();
            (await Tools.PodmanAsync(state, Ct, "rmi", "-a", "-f")).EnsureSuccess();
            (await Tools.PodmanAsync(state, Ct, "pull", "--tls-verify=false", "--creds", "ci:robot-secret", $"{registry.Host}/ci/podman:2")).EnsureSuccess();
            ProcessResult refused = await Tools.PodmanAsync(state, Ct, "pull", "--tls-verify=false", "--creds", "ci:wrong", $"{registry.Host}/ci/podman:2");
            Assert.NotEqual(0, refused.ExitCode);
        }
        finally
        {
            await Tools.PodmanAsync(state, CancellationToken.None, "rmi", "-a", "-f");
        }
    }

    [Fact]
    public async Task TokenEndpoint_GetPostAndRefresh_WorkOnEveryReplica()
    {
        using var work = new TempDirectory();
        string htpasswd = await WriteHtpasswdAsync(work, ("alice", "alice-pw"), ("root", "root-pw"));
        string root = work.Combine("data");
        await using RegistryServer a = await RegistryServer.StartDbuildAsync(work.Path, root, Ct, extra: BuiltinAuth(htpasswd));
        await using RegistryServer b = await RegistryServer.StartDbuildAsync(work.Path, root, Ct, extra: BuiltinAuth(htpasswd));
        Assert.True(File.Exists(Path.Combine(root, "dbuild", "auth", "token-key.pem")), "the generated key is kept in storage");
        using var http = new HttpClient();

        // GET with offline_token: a refresh token besides the access token; without credentials none.
        JsonNode got = await GetTokenAsync(http, a, "alice:alice-pw", "scope=repository:alice/app:pull,push&offline_token=true&account=alice&client_id=test");
        string access = got["token"]!.GetValue<string>();
        Assert.Equal(access, got["access_token"]!.GetValue<string>());
        Assert.Equal(300, got["expires_in"]!.GetValue<int>());
        Assert.True(DateTimeOffset.TryParse(got["issued_at"]!.GetValue<string>(), out _));
        string refresh = got["refresh_token"]!.GetValue<string>();
        Assert.Null((await GetTokenAsync(http, a, "alice:alice-pw", "scope=repository:alice/app:pull"))["refresh_token"]);
        JsonNode anonymous = await GetTokenAsync(http, a, null, "scope=repository:alice/app:pull&offline_token=true");
        Assert.Null(anonymous["refresh_token"]);
        Assert.Equal("[]", JsonNode.Parse(TokenAuthMatrixTests.Base64UrlDecode(anonymous["token"]!.GetValue<string>().Split('.')[1]))!["access"]!.ToJsonString());

        // The other replica accepts the token: authorized, the repository just does not exist yet.
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(http, $"{b.BaseUrl}/v2/alice/app/tags/list", access));
        // A refresh token is no access token.
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, $"{b.BaseUrl}/v2/", refresh));

        // POST refresh_token on the other replica: a new access token for the scope asked.
        JsonNode refreshed = await PostTokenAsync(http, b, HttpStatusCode.OK,
            ("grant_type", "refresh_token"), ("refresh_token", refresh), ("service", "dbuild-registry"), ("client_id", "test"), ("scope", "repository:alice/app:pull"));
        Assert.Equal("repository:alice/app:pull", refreshed["scope"]!.GetValue<string>());
        Assert.Equal(refresh, refreshed["refresh_token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(http, $"{a.BaseUrl}/v2/alice/app/tags/list", refreshed["access_token"]!.GetValue<string>()));

        // POST password: a refresh token only with access_type=offline; a wrong password is 401 UNAUTHORIZED.
        JsonNode password = await PostTokenAsync(http, a, HttpStatusCode.OK,
            ("grant_type", "password"), ("username", "root"), ("password", "root-pw"), ("service", "dbuild-registry"), ("client_id", "test"), ("access_type", "offline"),
            ("scope", "repository:x/y:pull registry:catalog:*"));
        Assert.Equal("repository:x/y:pull registry:catalog:*", password["scope"]!.GetValue<string>());
        Assert.NotNull(password["refresh_token"]);
        JsonNode wrong = await PostTokenAsync(http, a, HttpStatusCode.Unauthorized,
            ("grant_type", "password"), ("username", "root"), ("password", "nope"), ("service", "dbuild-registry"), ("client_id", "test"));
        Assert.Equal("UNAUTHORIZED", wrong["errors"]![0]!["code"]!.GetValue<string>());
        await PostTokenAsync(http, a, HttpStatusCode.BadRequest, ("grant_type", "client_credentials"), ("client_id", "test"));
        await PostTokenAsync(http, a, HttpStatusCode.Unauthorized, ("grant_type", "refresh_token"), ("refresh_token", access), ("client_id", "test"));

        // alice leaves the htpasswd file: her refresh token stops working (the file is re-read within a second).
        await File.WriteAllLinesAsync(htpasswd, (await File.ReadAllLinesAsync(htpasswd, Ct)).Where(l => !l.StartsWith("alice:", StringComparison.Ordinal)), Ct);
        HttpStatusCode status = HttpStatusCode.OK;
        for (int i = 0; i < 30 && status == HttpStatusCode.OK; i++)
        {
            await Task.Delay(200, Ct);
            using var form = new FormUrlEncodedContent([new("grant_type", "refresh_token"), new("refresh_token", refresh), new("client_id", "test")]);
            using HttpResponseMessage response = await http.PostAsync($"{b.BaseUrl}/auth/token", form, Ct);
            status = response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    private static async Task<JsonNode> GetTokenAsync(HttpClient http, RegistryServer server, string? credentials, string query)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{server.BaseUrl}/auth/token?service=dbuild-registry&{query}");
        if (credentials is not null) { request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials))); }
        using HttpResponseMessage response = await http.SendAsync(request, Ct);
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!;
    }

    private static async Task<JsonNode> PostTokenAsync(HttpClient http, RegistryServer server, HttpStatusCode expected, params (string Key, string Value)[] fields)
    {
        using var form = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));
        using HttpResponseMessage response = await http.PostAsync($"{server.BaseUrl}/auth/token", form, Ct);
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, string url, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using HttpResponseMessage response = await http.SendAsync(request, Ct);
        return response.StatusCode;
    }
}
