using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.TokenAuth;

/// <summary>
/// Every endpoint × (anonymous, wrong password, another user, a user without the action, the right user, an expired
/// token, a token for another service): with an external issuer (the test <see cref="TokenServer"/>) against dbuild and
/// against Debian's registry:2 (the same statuses, codes, details and challenges), and with dbuild's built-in issuer.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class TokenAuthMatrixTests
{
    private static readonly Dictionary<string, string> Users = new()
    {
        ["root"] = "root-pw", ["alice"] = "alice-pw", ["reader"] = "reader-pw", ["writer"] = "writer-pw", ["bob"] = "bob-pw",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExternalIssuer_DbuildAnswersAsRegistry2()
    {
        using var work = new TempDirectory();
        await using TokenServer tokens = await TokenServer.StartAsync(work, Users, Ct);
        tokens.Grants =
        [
            ("root", "alice/", ["pull", "push", "delete"]), ("root", "registry:catalog", ["*"]),
            ("alice", "alice/", ["pull", "push"]), ("reader", "alice/", ["pull"]), ("writer", "alice/", ["push"]), ("bob", "bob/", ["pull", "push"]),
        ];
        string auth = $"auth:\n  token:\n    realm: {tokens.Realm}\n    service: {TokenServer.Service}\n    issuer: {TokenServer.Issuer}\n    rootcertbundle: {tokens.RootCertBundle}\n";
        Func<Principal, IReadOnlyList<string>, Task<string?>> fetch = (principal, scopes) => FetchExternalAsync(tokens, principal, scopes);

        int port2 = RegistryServer.FreePort();
        await using RegistryServer registry2 = await RegistryServer.StartRegistry2Async(
            RegistryServer.WriteConfig(work.Path, work.Combine("data2"), port2, extra: auth), port2, work.Combine("data2"), Ct);
        int port = RegistryServer.FreePort();
        await using RegistryServer dbuild = await RegistryServer.StartDbuildAsync(
            RegistryServer.WriteConfig(work.Path, work.Combine("data"), port, extra: auth), port, work.Combine("data"), Ct);

        using var matrix2 = new AuthMatrix(registry2.BaseUrl, fetch);
        using var matrixDbuild = new AuthMatrix(dbuild.BaseUrl, fetch);
        Dictionary<string, Observation> expected = await RunMatrixAsync(matrix2, tokens.Realm.ToString(), TokenServer.Service, registry2: true);
        Dictionary<string, Observation> actual = await RunMatrixAsync(matrixDbuild, tokens.Realm.ToString(), TokenServer.Service, registry2: false);
        foreach ((string cell, Observation observation) in expected)
        {
            Assert.True(observation == actual[cell], $"{cell}: registry:2 {observation}, dbuild {actual[cell]}");
        }

        // A mount needs pull on the source: granted (alice/src) mounts; not granted (bob/src) is answered as registry:2 does.
        foreach (RegistryServer server in new[] { registry2, dbuild })
        {
            using var matrix = new AuthMatrix(server.BaseUrl, fetch);
            byte[] blob = Encoding.UTF8.GetBytes("a blob to mount");
            await matrix.PushBlobAsync("alice/src", blob, Ct);
            await matrix.PushBlobAsync("bob/src", blob, Ct, new Principal("bob", "bob", "bob-pw"));
            string digest = Dbuild.Oci.Digest.Compute(blob).ToString();
            var granted = new MatrixEndpoint("mount", HttpMethod.Post, _ => $"/v2/alice/mounted/blobs/uploads/?mount={digest}&from=alice/src", "push", 201);
            var refused = new MatrixEndpoint("mount", HttpMethod.Post, _ => $"/v2/alice/other/blobs/uploads/?mount={digest}&from=bob/src", "push", 202);
            Assert.Equal(201, (await matrix.RunAsync(granted, AuthMatrix.Root, Ct)).Status);
            Observation noPull = await matrix.RunAsync(refused, AuthMatrix.Root, Ct);
            Assert.Equal(new Observation(401, "UNAUTHORIZED",
                "{\"Type\":\"repository\",\"Class\":\"\",\"Name\":\"alice/other\",\"Action\":\"pull\"} {\"Type\":\"repository\",\"Class\":\"\",\"Name\":\"alice/other\",\"Action\":\"push\"} {\"Type\":\"repository\",\"Class\":\"\",\"Name\":\"bob/src\",\"Action\":\"pull\"}",
                "insufficient_scope", "repository:alice/other:pull,push repository:bob/src:pull", tokens.Realm.ToString(), TokenServer.Service), noPull);
        }
    }

    [Fact]
    public async Task BuiltinIssuer_RefusesWhatRegistry2Would()
    {
        using var work = new TempDirectory();
        string htpasswdTool = Prerequisites.RequireTool("htpasswd", "apache2-utils");
        foreach ((string user, string password) in Users)
        {
            (await ProcessRunner.RunAsync(htpasswdTool, [File.Exists(work.Combine("htpasswd")) ? "-Bb" : "-Bbc", work.Combine("htpasswd"), user, password], Ct)).EnsureSuccess();
        }
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(work.Combine("token.pem"), key.ExportPkcs8PrivateKeyPem(), Ct);
        int port = RegistryServer.FreePort();
        await using RegistryServer dbuild = await RegistryServer.StartDbuildAsync(RegistryServer.WriteConfig(work.Path, work.Combine("data"), port,
            extra: $"auth:\n  token:\n    builtin:\n      htpasswd: {work.Combine("htpasswd")}\n      key: {work.Combine("token.pem")}\n"), port, work.Combine("data"), Ct);
        string realm = $"{dbuild.BaseUrl}/auth/token";
        using var matrix = new AuthMatrix(dbuild.BaseUrl, (principal, scopes) => FetchBuiltinAsync(realm, key, principal, scopes));

        // Without a rules file every signed-in account may do anything (registry:2's htpasswd behaviour), so "another user"
        // and "a user without the action" are covered with rules in Dbuild.Registry.Tests' BuiltinTokenRulesTests.
        await matrix.SeedAsync(Ct);
        Principal[] principals =
        [
            new("anonymous", null, null), new("wrong password", "alice", "nope", TokenFlaw.WrongPassword),
            new("expired", "root", "root-pw", TokenFlaw.Expired), new("another service", "root", "root-pw", TokenFlaw.OtherService),
        ];
        foreach (MatrixEndpoint endpoint in AuthMatrix.Endpoints)
        {
            foreach (Principal principal in principals)
            {
                Observation seen = await matrix.RunAsync(endpoint, principal, Ct);
                Assert.True(Expected(endpoint, principal, realm, "dbuild-registry") == seen, $"{endpoint.Label} as {principal.Label}: {seen}");
            }
        }
        foreach (MatrixEndpoint endpoint in AuthMatrix.Endpoints)
        {
            Observation seen = await matrix.RunAsync(endpoint, AuthMatrix.Root, Ct);
            Assert.True(seen.Status == endpoint.AllowedStatus, $"{endpoint.Label} as the right user: {seen}");
        }
    }

    /// <summary>Runs every cell; each is checked against <see cref="Expected"/> and returned for the comparison.</summary>
    private static async Task<Dictionary<string, Observation>> RunMatrixAsync(AuthMatrix matrix, string realm, string service, bool registry2)
    {
        await matrix.SeedAsync(Ct);
        var seen = new Dictionary<string, Observation>();
        IEnumerable<MatrixEndpoint> endpoints = AuthMatrix.Endpoints.Where(e => e.Registry2Has || !registry2);
        foreach (MatrixEndpoint endpoint in endpoints)
        {
            foreach (Principal principal in RefusedPrincipals(endpoint))
            {
                Observation observation = await matrix.RunAsync(endpoint, principal, Ct);
                Assert.True(Expected(endpoint, principal, realm, service) == observation,
                    $"{(registry2 ? "registry:2" : "dbuild")} {endpoint.Label} as {principal.Label}: {observation}, expected {Expected(endpoint, principal, realm, service)}");
                seen[$"{endpoint.Label} as {principal.Label}"] = observation;
            }
        }
        foreach (MatrixEndpoint endpoint in endpoints)
        {
            Observation observation = await matrix.RunAsync(endpoint, AuthMatrix.Root, Ct);
            Assert.True(observation.Status == endpoint.AllowedStatus, $"{(registry2 ? "registry:2" : "dbuild")} {endpoint.Label} as the right user: {observation}");
            seen[$"{endpoint.Label} as the right user"] = observation with { Detail = "", Code = null };
        }
        return seen;
    }

    private static IEnumerable<Principal> RefusedPrincipals(MatrixEndpoint endpoint) =>
    [
        new("anonymous", null, null),
        new("wrong password", "alice", "nope", TokenFlaw.WrongPassword),
        new("another user", "bob", "bob-pw"),
        endpoint.Action switch
        {
            "pull" => new Principal("a user without the action", "writer", "writer-pw"),
            "push" => new Principal("a user without the action", "reader", "reader-pw"),
            _ => new Principal("a user without the action", "alice", "alice-pw"),
        },
        new("expired", "root", "root-pw", TokenFlaw.Expired),
        new("another service", "root", "root-pw", TokenFlaw.OtherService),
    ];

    /// <summary>registry:2's answer: 401 UNAUTHORIZED, the needed items as detail and scope, and the challenge's error.</summary>
    private static Observation Expected(MatrixEndpoint endpoint, Principal principal, string realm, string service)
    {
        bool validToken = principal.Flaw == TokenFlaw.None;
        if (endpoint.Action == "none" && validToken) { return new Observation(200, null, "", null, "", null, null); }
        string type = endpoint.Action == "catalog" ? "registry" : "repository";
        string name = endpoint.Action == "catalog" ? "catalog" : AuthMatrix.Repository;
        string[] actions = endpoint.Action switch { "catalog" => ["*"], "push" => ["pull", "push"], "none" => [], var one => [one] };
        string detail = string.Join(' ', actions.Select(a => $"{{\"Type\":\"{type}\",\"Class\":\"\",\"Name\":\"{name}\",\"Action\":\"{a}\"}}").Order(StringComparer.Ordinal));
        string? error = principal.Flaw switch
        {
            TokenFlaw.WrongPassword => null,
            TokenFlaw.Expired or TokenFlaw.OtherService => "invalid_token",
            _ => "insufficient_scope",
        };
        bool head = endpoint.Method == HttpMethod.Head; // the error body is not sent with HEAD
        return new Observation(401, head ? null : "UNAUTHORIZED", head ? "" : detail, error, actions.Length == 0 ? "" : $"{type}:{name}:{string.Join(',', actions)}", realm, service);
    }

    private static async Task<string?> FetchExternalAsync(TokenServer tokens, Principal principal, IReadOnlyList<string> scopes)
    {
        tokens.Lifetime = principal.Flaw == TokenFlaw.Expired ? TimeSpan.FromSeconds(-1) : TimeSpan.FromMinutes(5);
        tokens.Audience = principal.Flaw == TokenFlaw.OtherService ? "another-service" : TokenServer.Service;
        return await FetchAsync(tokens.Realm.ToString(), TokenServer.Service, principal, scopes);
    }

    /// <summary>The built-in issuer's token, or (expired, another service) the same claims changed and signed again with its key.</summary>
    private static async Task<string?> FetchBuiltinAsync(string realm, ECDsa key, Principal principal, IReadOnlyList<string> scopes)
    {
        string? token = await FetchAsync(realm, "dbuild-registry", principal, scopes);
        if (token is null || principal.Flaw is not (TokenFlaw.Expired or TokenFlaw.OtherService)) { return token; }
        string[] parts = token.Split('.');
        JsonObject claims = JsonNode.Parse(Base64UrlDecode(parts[1]))!.AsObject();
        if (principal.Flaw == TokenFlaw.Expired) { claims["exp"] = DateTimeOffset.UtcNow.AddSeconds(-61).ToUnixTimeSeconds(); }
        else { claims["aud"] = "another-service"; }
        string input = parts[0] + "." + Base64UrlEncode(JsonSerializer.SerializeToUtf8Bytes(claims));
        byte[] signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return input + "." + Base64UrlEncode(signature);
    }

    /// <summary>GET realm?service&amp;scope… as docker does; null when the token server refuses the credentials.</summary>
    internal static async Task<string?> FetchAsync(string realm, string service, Principal principal, IReadOnlyList<string> scopes)
    {
        using var http = new HttpClient();
        string query = $"?service={Uri.EscapeDataString(service)}" + string.Concat(scopes.Select(s => "&scope=" + Uri.EscapeDataString(s)));
        using var request = new HttpRequestMessage(HttpMethod.Get, realm + query);
        if (principal.User is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal.User}:{principal.Password}")));
        }
        using HttpResponseMessage response = await http.SendAsync(request, Ct);
        string body = await response.Content.ReadAsStringAsync(Ct);
        if (principal.Flaw == TokenFlaw.WrongPassword)
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
            return null;
        }
        Assert.True(response.IsSuccessStatusCode, $"token request for {principal.Label}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["token"]!.GetValue<string>();
    }

    internal static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static byte[] Base64UrlDecode(string text)
    {
        string padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4));
    }
}
