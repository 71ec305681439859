using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dbuild.IntegrationTests.RegistryClient;

/// <summary>What the token server was asked for and what it answered.</summary>
/// <param name="User">The Basic user, or null for anonymous.</param>
/// <param name="Scopes">The <c>scope</c> parameters, as sent.</param>
/// <param name="Service">The <c>service</c> parameter.</param>
/// <param name="Status">200, or 401 for bad credentials.</param>
/// <param name="Granted">The access claim, as <c>repository:NAME:ACTIONS</c> per resource.</param>
/// <param name="Expiration">The JWT's <c>exp</c> claim.</param>
/// <param name="Token">The JWT issued, or null.</param>
internal sealed record TokenRequest(string? User, IReadOnlyList<string> Scopes, string? Service, int Status, IReadOnlyList<string> Granted,
    DateTimeOffset? Expiration, string? Token)
{
    /// <summary>When registry:2 starts refusing the token: <c>exp</c> plus its leeway.</summary>
    public DateTimeOffset? RefusedAfter => Expiration + TokenServer.RegistryLeeway;
}

/// <summary>
/// A real Docker token server (https://distribution.github.io/distribution/spec/auth/token/) on 127.0.0.1 for
/// registry:2's <c>auth.token</c>: <c>GET /token?service=S&amp;scope=repository:NAME:ACTIONS</c> with optional Basic
/// credentials answers <c>{"token","access_token","expires_in","issued_at"}</c>, an ES256 JWT whose <c>x5c</c> header
/// carries a throwaway self-signed certificate that <see cref="RootCertBundle"/> makes the registry trust. It grants
/// only what <see cref="Grants"/> allow (an empty access list when nothing), refuses bad passwords with 401, and
/// records every request.
/// </summary>
/// <remarks>
/// registry:2 (distribution 2.8, registry/auth/token/token.go) accepts a token until <c>exp + Leeway</c>, Leeway being
/// 60 s. So that the registry enforces <see cref="Lifetime"/> itself, <c>exp</c> is written 60 s early: the registry
/// refuses the token <see cref="Lifetime"/> after issue, the moment <c>expires_in</c> tells the client.
/// </remarks>
internal sealed class TokenServer : IAsyncDisposable
{
    public const string Service = "dbuild-test-registry";
    public const string Issuer = "dbuild-test-token-server";

    /// <summary>distribution's <c>token.Leeway</c>.</summary>
    public static readonly TimeSpan RegistryLeeway = TimeSpan.FromSeconds(60);

    private readonly WebApplication _app;
    private readonly ECDsa _key;
    private readonly string _certificate;
    private readonly ConcurrentQueue<TokenRequest> _requests = new();
    private readonly Dictionary<string, string> _passwords;

    private TokenServer(WebApplication app, ECDsa key, string certificate, Dictionary<string, string> passwords) =>
        (_app, _key, _certificate, _passwords) = (app, key, certificate, passwords);

    /// <summary>The realm to configure in registry:2, <c>http://127.0.0.1:PORT/token</c>.</summary>
    public Uri Realm { get; private set; } = null!;

    /// <summary>PEM file with the signing certificate: registry:2's <c>auth.token.rootcertbundle</c>.</summary>
    public string RootCertBundle { get; private set; } = "";

    /// <summary><c>expires_in</c> of new tokens (and, through <c>exp</c>, their lifetime at the registry). Defaults to 5 minutes.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>When set, <c>expires_in</c> says this instead of <see cref="Lifetime"/>: a token the registry drops before the client expects.</summary>
    public TimeSpan? AnnouncedLifetime { get; set; }

    /// <summary>The <c>aud</c> written into tokens; another value makes tokens "for another service". Defaults to <see cref="Service"/>.</summary>
    public string Audience { get; set; } = Service;

    /// <summary>
    /// Who may do what: a user (null: anyone, including anonymous) gets the actions on repositories starting with the
    /// prefix (<c>registry:catalog</c> as the prefix grants that resource: <c>registry:catalog:*</c>). Defaults to: anyone pulls <c>public/*</c>, <c>publisher</c> pushes there, <c>alice</c> pulls and pushes <c>alice/*</c>.
    /// </summary>
    public IReadOnlyList<(string? User, string RepositoryPrefix, string[] Actions)> Grants { get; set; } =
    [
        (null, "public/", ["pull"]),
        ("publisher", "public/", ["pull", "push"]),
        ("alice", "alice/", ["pull", "push"]),
    ];

    public IReadOnlyList<TokenRequest> Requests => [.. _requests];

    public void ClearRequests() => _requests.Clear();

    /// <summary>Starts the server with these users (name to password) and writes the certificate bundle into <paramref name="directory"/>.</summary>
    public static async Task<TokenServer> StartAsync(TempDirectory directory, IReadOnlyDictionary<string, string> users, CancellationToken cancellationToken)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + Issuer, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        var server = new TokenServer(app, key, Convert.ToBase64String(certificate.RawData), new Dictionary<string, string>(users, StringComparer.Ordinal))
        {
            RootCertBundle = directory.Combine("token-ca.pem"),
        };
        await File.WriteAllTextAsync(server.RootCertBundle, certificate.ExportCertificatePem() + "\n", cancellationToken);
        app.MapGet("/token", server.Issue);
        await app.StartAsync(cancellationToken);
        server.Realm = new Uri(app.Urls.Single() + "/token"); // http://127.0.0.1:PORT, the port Kestrel picked
        return server;
    }

    private IResult Issue(HttpContext context)
    {
        IReadOnlyList<string> scopes = [.. context.Request.Query["scope"].SelectMany(s => (s ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))];
        string? service = context.Request.Query["service"];
        string? user = null;
        if (context.Request.Headers.Authorization.ToString() is { Length: > 0 } authorization)
        {
            if (!TryBasic(authorization, out string? name, out string? password) || !_passwords.TryGetValue(name, out string? expected) || expected != password)
            {
                _requests.Enqueue(new TokenRequest(name, scopes, service, 401, [], null, null));
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"dbuild-test\"";
                return Results.Json(new { errors = new[] { new { code = "UNAUTHORIZED", message = "bad user name or password" } } }, statusCode: 401);
            }
            user = name;
        }
        if (service != Service)
        {
            return Results.Json(new { errors = new[] { new { code = "DENIED", message = $"unknown service '{service}'" } } }, statusCode: 400);
        }

        // One entry per resource, actions merged, as registry:2 reads the claim.
        var granted = new Dictionary<(string Type, string Name), SortedSet<string>>();
        foreach (string scope in scopes)
        {
            int first = scope.IndexOf(':', StringComparison.Ordinal);
            int last = scope.LastIndexOf(':');
            if (first < 0 || last <= first || scope[..first] is not ("repository" or "registry")) { continue; }
            string type = scope[..first];
            string repository = scope[(first + 1)..last];
            string key = type == "registry" ? $"registry:{repository}" : repository; // names never hold ':'
            string[] actions = scope[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries);
            foreach (string action in actions.Where(a => Grants.Any(g => (g.User is null || g.User == user) &&
                key.StartsWith(g.RepositoryPrefix, StringComparison.Ordinal) && g.Actions.Contains(a))))
            {
                if (!granted.TryGetValue((type, repository), out SortedSet<string>? set)) { granted[(type, repository)] = set = new SortedSet<string>(StringComparer.Ordinal); }
                set.Add(action);
            }
        }

        DateTimeOffset now = DateTimeOffset.UtcNow;
        DateTimeOffset expiration = now + Lifetime - RegistryLeeway;
        var access = new JsonArray();
        foreach (((string type, string repository), SortedSet<string> actions) in granted)
        {
            access.Add(new JsonObject { ["type"] = type, ["name"] = repository, ["actions"] = new JsonArray([.. actions.Select(a => JsonValue.Create(a))]) });
        }
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = user ?? "",
            ["aud"] = Audience,
            ["exp"] = expiration.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["jti"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            ["access"] = access,
        };
        string token = Sign(claims);
        _requests.Enqueue(new TokenRequest(user, scopes, service, 200, [.. granted.Select(g => $"{g.Key.Type}:{g.Key.Name}:{string.Join(',', g.Value)}")],
            DateTimeOffset.FromUnixTimeSeconds(expiration.ToUnixTimeSeconds()), token));
        int expiresIn = (int)(AnnouncedLifetime ?? Lifetime).TotalSeconds;
        return Results.Json(new { token, access_token = token, expires_in = expiresIn, issued_at = now.ToString("O", System.Globalization.CultureInfo.InvariantCulture) });
    }

    /// <summary>A compact JWS: base64url(header).base64url(claims).base64url(ES256 r||s), the header naming the certificate in <c>x5c</c>.</summary>
    private string Sign(JsonObject claims)
    {
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "ES256", ["x5c"] = new JsonArray(JsonValue.Create(_certificate)) };
        string signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        byte[] signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryBasic(string header, [NotNullWhen(true)] out string? user, [NotNullWhen(true)] out string? password)
    {
        (user, password) = (null, null);
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) { return false; }
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim())); }
        catch (FormatException) { return false; }
        int colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) { return false; }
        (user, password) = (decoded[..colon], decoded[(colon + 1)..]);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _key.Dispose();
    }
}
