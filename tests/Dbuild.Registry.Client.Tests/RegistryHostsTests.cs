using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dbuild.Testing;

namespace Dbuild.Registry.Client.Tests;

public sealed class RegistryHostsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void ConfigFile_ReadsBuildkitdShape_RelativePathsFromTheFilesFolder()
    {
        IReadOnlyDictionary<string, RegistryHostConfig> entries = RegistryConfigFile.Parse("""
            debug = true
            [worker.oci]
              enabled = true
            [registry."docker.io"]
              mirrors = ["mirror.test:5000", "127.0.0.1:5001"]
            [registry."10.0.0.1:5000"]
              http = true
              insecure = true
              ca = ["certs/ca.pem", "/abs/ca2.pem"]
              [[registry."10.0.0.1:5000".keypair]]
                key = "client.key"
                cert = "client.cert"
            """, "/etc/dbuild/dbuild.toml");
        Assert.Equal(["mirror.test:5000", "127.0.0.1:5001"], entries["docker.io"].Mirrors);
        RegistryHostConfig host = entries["10.0.0.1:5000"];
        Assert.True(host.Http);
        Assert.True(host.Insecure);
        Assert.Equal(["/etc/dbuild/certs/ca.pem", "/abs/ca2.pem"], host.CaFiles);
        Assert.Equal([new ClientKeyPair("/etc/dbuild/client.cert", "/etc/dbuild/client.key")], host.KeyPairs);
    }

    [Theory]
    [InlineData("[registry.\"h\"]\n  insecur = true\n", "/x/d.toml: [registry.\"h\"]: unknown key 'insecur'")]
    [InlineData("[registry.\"h\"]\n  http = \"yes\"\n", "/x/d.toml: [registry.\"h\"]: http must be true or false.")]
    [InlineData("[registry.\"h\"]\n  ca = \"a.pem\"\n", "/x/d.toml: [registry.\"h\"]: ca must be a list of strings")]
    [InlineData("[registry.\"h\"\n", "/x/d.toml: ")]
    public void ConfigFile_Errors_NameTheFileAndEntry(string text, string expected)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => RegistryConfigFile.Parse(text, "/x/d.toml"));
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Hosts_LoopbackInsecureByDefault_ConfigOverrides_CertsDirectoryIsRead()
    {
        using var certs = new TempDirectory();
        Directory.CreateDirectory(certs.Combine("reg.test:5000"));
        File.WriteAllText(certs.Combine("reg.test:5000", "ca.crt"), "");
        File.WriteAllText(certs.Combine("reg.test:5000", "client.cert"), "");
        File.WriteAllText(certs.Combine("reg.test:5000", "client.key"), "");
        Directory.CreateDirectory(certs.Combine("bad.test"));
        File.WriteAllText(certs.Combine("bad.test", "lonely.key"), "");
        var hosts = new RegistryHosts(new Dictionary<string, RegistryHostConfig> { ["127.0.0.1:6000"] = new() { Insecure = false } }, certs.Path);

        Assert.True(hosts.IsInsecure("127.0.0.1:5000"));
        Assert.True(hosts.IsInsecure("localhost:5000"));
        Assert.True(hosts.IsInsecure("[::1]:5000"));
        Assert.False(hosts.IsInsecure("127.0.0.1:6000"));
        Assert.False(hosts.IsInsecure("reg.test:5000"));
        Assert.Equal([certs.Combine("reg.test:5000", "ca.crt")], hosts.Get("reg.test:5000").CaFiles);
        Assert.Equal([new ClientKeyPair(certs.Combine("reg.test:5000", "client.cert"), certs.Combine("reg.test:5000", "client.key"))], hosts.Get("reg.test:5000").KeyPairs);
        var ex = Assert.Throws<InvalidOperationException>(() => hosts.Get("bad.test"));
        Assert.Contains("missing client certificate lonely.cert", ex.Message, StringComparison.Ordinal);

        Assert.True(hosts.MayFallBackToHttp("127.0.0.1:5000"));
        hosts.RecordSpeaksTls("127.0.0.1:5000");
        Assert.False(hosts.MayFallBackToHttp("127.0.0.1:5000"));
        Assert.False(hosts.MayFallBackToHttp("reg.test:5000"));
    }

    [Fact]
    public async Task Client_InsecureHostWithoutTls_FallsBackToHttp_SecureHostDoesNot()
    {
        var seen = new List<string>();
        var handler = new LambdaHandler(request =>
        {
            seen.Add(request.RequestUri!.GetLeftPart(UriPartial.Authority));
            if (request.RequestUri.Scheme == "https") { throw new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established."); }
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        var hosts = new RegistryHosts(new Dictionary<string, RegistryHostConfig> { ["127.0.0.1:6000"] = new() { Insecure = false } });
        var client = new RegistryClient(new HttpClient(handler), new RegistryClientOptions { Hosts = hosts, RetryDelay = TimeSpan.Zero });

        await client.PingAsync("127.0.0.1:5000", Ct);
        await client.PingAsync("127.0.0.1:5000", Ct);
        Assert.Equal(["https://127.0.0.1:5000", "http://127.0.0.1:5000", "http://127.0.0.1:5000"], seen);
        Assert.Equal("http://127.0.0.1:5000/", client.BaseUri("127.0.0.1:5000").ToString());

        RegistryException ex = await Assert.ThrowsAsync<RegistryException>(() => client.PingAsync("127.0.0.1:6000", Ct));
        Assert.Contains("127.0.0.1:6000 does not answer TLS", ex.Message, StringComparison.Ordinal);
        Assert.Contains("http = true", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CertificateProblem_SaysWhatGoSays()
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=registry", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("registry.test");
        names.AddIpAddress(IPAddress.Parse("10.0.0.1"));
        request.CertificateExtensions.Add(names.Build());
        var notBefore = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using X509Certificate2 certificate = request.CreateSelfSigned(notBefore, notBefore.AddDays(30));
        DateTimeOffset during = notBefore.AddDays(1);

        Assert.Equal("x509: certificate signed by unknown authority",
            CertificateProblem.Describe("registry.test:5000", certificate, SslPolicyErrors.RemoteCertificateChainErrors, X509ChainStatusFlags.UntrustedRoot, during));
        Assert.Equal("x509: certificate is valid for registry.test, not other.test",
            CertificateProblem.Describe("other.test:5000", certificate, SslPolicyErrors.RemoteCertificateNameMismatch, X509ChainStatusFlags.NoError, during));
        Assert.Equal("x509: certificate is valid for 10.0.0.1, not 127.0.0.1",
            CertificateProblem.Describe("127.0.0.1:5000", certificate, SslPolicyErrors.RemoteCertificateNameMismatch, X509ChainStatusFlags.NoError, during));
        Assert.Equal("x509: certificate has expired or is not yet valid: current time 2026-03-01T00:00:00Z is after " +
            certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            CertificateProblem.Describe("registry.test", certificate, SslPolicyErrors.RemoteCertificateChainErrors, X509ChainStatusFlags.NotTimeValid,
                new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero)));
    }

    private sealed class LambdaHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => Task.FromResult(respond(request));
    }
}
