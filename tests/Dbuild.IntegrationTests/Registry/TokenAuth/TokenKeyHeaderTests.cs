using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Registry.Auth;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry.TokenAuth;

/// <summary>
/// How an external token names its signing key — an <c>x5c</c> chain through an intermediate to the root in
/// <c>auth.token.rootcertbundle</c>, the root's libtrust <c>kid</c>, its <c>jwk</c> — and keys that must not be trusted:
/// dbuild accepts and refuses exactly what Debian's registry:2 does.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class TokenKeyHeaderTests
{
    private const string Service = "key-header-test";
    private const string Issuer = "key-header-issuer";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SigningKeyHeaders_AreTrustedAsByRegistry2()
    {
        using var work = new TempDirectory();
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var strangerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 root = Authority("CN=test token root", rootKey);
        using X509Certificate2 intermediate = Issue(root, "CN=test token intermediate", intermediateKey, authority: true, serial: 2);
        using X509Certificate2 leaf = Issue(intermediate, "CN=test token signer", leafKey, authority: false, serial: 3);
        using X509Certificate2 stranger = Authority("CN=not in the bundle", strangerKey);
        string bundle = work.Combine("bundle.pem");
        await File.WriteAllTextAsync(bundle, root.ExportCertificatePem() + "\n", Ct);
        string auth = $"auth:\n  token:\n    realm: http://127.0.0.1:1/token\n    autoredirect: true\n    service: {Service}\n    issuer: {Issuer}\n    rootcertbundle: {bundle}\n";

        string rootKid = TokenSigningKey.KeyId(rootKey);
        ECParameters rootPublic = rootKey.ExportParameters(false);
        var cases = new (string Label, object Header, ECDsa Signer)[]
        {
            ("x5c chain", new { typ = "JWT", alg = "ES256", x5c = new[] { Convert.ToBase64String(leaf.RawData), Convert.ToBase64String(intermediate.RawData) } }, leafKey),
            ("x5c without the intermediate", new { typ = "JWT", alg = "ES256", x5c = new[] { Convert.ToBase64String(leaf.RawData) } }, leafKey),
            ("x5c not in the bundle", new { typ = "JWT", alg = "ES256", x5c = new[] { Convert.ToBase64String(stranger.RawData) } }, strangerKey),
            ("kid of the root", new { typ = "JWT", alg = "ES256", kid = rootKid }, rootKey),
            ("kid of a stranger", new { typ = "JWT", alg = "ES256", kid = TokenSigningKey.KeyId(strangerKey) }, strangerKey),
            ("kid of the root, signed by a stranger", new { typ = "JWT", alg = "ES256", kid = rootKid }, strangerKey),
            ("jwk of the root", new { typ = "JWT", alg = "ES256", jwk = Jwk(rootPublic, rootKid) }, rootKey),
            ("jwk of the root without kid", new { typ = "JWT", alg = "ES256", jwk = Jwk(rootPublic, null) }, rootKey),
            ("jwk of the root with another kid", new { typ = "JWT", alg = "ES256", jwk = Jwk(rootPublic, TokenSigningKey.KeyId(strangerKey)) }, rootKey),
            ("jwk of a stranger", new { typ = "JWT", alg = "ES256", jwk = Jwk(strangerKey.ExportParameters(false), TokenSigningKey.KeyId(strangerKey)) }, strangerKey),
            ("no key named", new { typ = "JWT", alg = "ES256" }, rootKey),
        };

        int port2 = RegistryServer.FreePort();
        await using RegistryServer registry2 = await RegistryServer.StartRegistry2Async(
            RegistryServer.WriteConfig(work.Path, work.Combine("data2"), port2, extra: auth), port2, work.Combine("data2"), Ct);
        int port = RegistryServer.FreePort();
        await using RegistryServer dbuild = await RegistryServer.StartDbuildAsync(
            RegistryServer.WriteConfig(work.Path, work.Combine("data"), port, extra: auth), port, work.Combine("data"), Ct);
        using var http = new HttpClient();
        var accepted = new List<string>();
        foreach ((string label, object header, ECDsa signer) in cases)
        {
            string token = Sign(header, signer);
            HttpStatusCode expected = await StatusAsync(http, registry2, token);
            HttpStatusCode actual = await StatusAsync(http, dbuild, token);
            Assert.True(expected == actual, $"{label}: registry:2 {(int)expected}, dbuild {(int)actual}");
            if (actual == HttpStatusCode.OK) { accepted.Add(label); }
        }
        Assert.Equal(["x5c chain", "kid of the root", "jwk of the root", "jwk of the root without kid"], accepted);

        // auth.token.autoredirect: the realm is https://HOST/auth/token, HOST as the client sent it.
        using var anonymous = new HttpRequestMessage(HttpMethod.Get, $"{registry2.BaseUrl}/v2/alice/app/tags/list");
        using HttpResponseMessage expectedChallenge = await http.SendAsync(anonymous, Ct);
        using var anonymousDbuild = new HttpRequestMessage(HttpMethod.Get, $"{dbuild.BaseUrl}/v2/alice/app/tags/list") { Headers = { Host = registry2.Host } };
        using HttpResponseMessage actualChallenge = await http.SendAsync(anonymousDbuild, Ct);
        Assert.Equal($"Bearer realm=\"https://{registry2.Host}/auth/token\",service=\"{Service}\",scope=\"repository:alice/app:pull\"",
            expectedChallenge.Headers.WwwAuthenticate.ToString());
        Assert.Equal(expectedChallenge.Headers.WwwAuthenticate.ToString(), actualChallenge.Headers.WwwAuthenticate.ToString());
    }

    private static X509Certificate2 Authority(string name, ECDsa key)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 issuer, string name, ECDsa key, bool authority, byte serial)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(authority, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(authority ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature : X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using X509Certificate2 certificate = request.Create(issuer, DateTimeOffset.UtcNow.AddHours(-12), DateTimeOffset.UtcNow.AddHours(12), [serial]);
        return certificate.CopyWithPrivateKey(key);
    }

    private static JsonObject Jwk(ECParameters key, string? kid)
    {
        var jwk = new JsonObject
        {
            ["kty"] = "EC", ["crv"] = "P-256",
            ["x"] = TokenAuthMatrixTests.Base64UrlEncode(key.Q.X!), ["y"] = TokenAuthMatrixTests.Base64UrlEncode(key.Q.Y!),
        };
        if (kid is not null) { jwk["kid"] = kid; }
        return jwk;
    }

    private static string Sign(object header, ECDsa key)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new { iss = Issuer, sub = "someone", aud = Service, exp = now + 300, nbf = now, iat = now, jti = Guid.NewGuid().ToString("N"), access = Array.Empty<object>() };
        string input = TokenAuthMatrixTests.Base64UrlEncode(JsonSerializer.SerializeToUtf8Bytes(header)) + "." +
            TokenAuthMatrixTests.Base64UrlEncode(JsonSerializer.SerializeToUtf8Bytes(claims));
        byte[] signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return input + "." + TokenAuthMatrixTests.Base64UrlEncode(signature);
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, RegistryServer server, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{server.BaseUrl}/v2/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using HttpResponseMessage response = await http.SendAsync(request, Ct);
        return response.StatusCode;
    }
}
