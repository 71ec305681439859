using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryTlsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.</summary>
    internal static async Task<string> MakeCertificatesAsync(string directory)
    {
        string openssl = Prerequisites.RequireTool("openssl", "openssl");
        Directory.CreateDirectory(directory);
        async Task Run(params string[] args) => (await ProcessRunner.RunAsync(openssl, args, Ct, workingDirectory: directory)).EnsureSuccess();
        await Run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=dbuild test CA", "-keyout", "ca.key", "-out", "ca.crt");
        await File.WriteAllTextAsync(Path.Combine(directory, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", Ct);
        await Run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
        await Run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt");
        await File.WriteAllTextAsync(Path.Combine(directory, "client.ext"), "extendedKeyUsage=clientAuth\n", Ct);
        await Run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=dbuild test client", "-keyout", "client.key", "-out", "client.csr");
        await Run("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "client.ext", "-out", "client.cert");
        return directory;
    }

    /// <summary>A skopeo cert dir: *.crt are CAs, a *.cert/*.key pair is the client certificate.</summary>
    internal static string CertDir(string certs, string name, bool withClientCertificate)
    {
        string dir = Path.Combine(certs, name);
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(certs, "ca.crt"), Path.Combine(dir, "ca.crt"), overwrite: true);
        if (withClientCertificate)
        {
            File.Copy(Path.Combine(certs, "client.cert"), Path.Combine(dir, "client.cert"), overwrite: true);
            File.Copy(Path.Combine(certs, "client.key"), Path.Combine(dir, "client.key"), overwrite: true);
        }
        return dir;
    }

    [Fact]
    public async Task Tls_SkopeoCopiesBothWaysWithTheCaVerified()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        string certs = await MakeCertificatesAsync(work.Combine("certs"));
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct,
            extraHttp: $"  tls:\n    certificate: {certs}/server.crt\n    key: {certs}/server.key\n");
        string trust = CertDir(certs, "trust", withClientCertificate: false);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-cert-dir", trust, $"oci:{busybox}:latest", $"docker://{registry.Host}/secure/busybox:1");
        await Tools.SkopeoAsync(Ct, "copy", "--src-cert-dir", trust, $"docker://{registry.Host}/secure/busybox:1", $"oci:{work.Combine("back")}:copy");
        Assert.True(File.Exists(work.Combine("back", "index.json")));

        string curl = Prerequisites.RequireTool("curl", "curl");
        ProcessResult plain = await ProcessRunner.RunAsync(curl, ["-sS", "-o", "/dev/null", "-w", "%{http_code}", $"http://{registry.Host}/v2/"], Ct);
        Assert.NotEqual("200", plain.StandardOutput.Trim()); // TLS only
        ProcessResult untrusted = await ProcessRunner.RunAsync(curl, ["-sS", $"https://{registry.Host}/v2/"], Ct);
        Assert.NotEqual(0, untrusted.ExitCode); // the throwaway CA is not in the system store
    }

    [Fact]
    public async Task Tls_WithClientCas_RequiresAClientCertificateFromThatCa()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory();
        string certs = await MakeCertificatesAsync(work.Combine("certs"));
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct,
            extraHttp: $"  tls:\n    certificate: {certs}/server.crt\n    key: {certs}/server.key\n    clientcas:\n      - {certs}/ca.crt\n");
        string withClient = CertDir(certs, "with-client", withClientCertificate: true);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-cert-dir", withClient, $"oci:{busybox}:latest", $"docker://{registry.Host}/mtls/busybox:1");

        string curl = Prerequisites.RequireTool("curl", "curl");
        ProcessResult without = await ProcessRunner.RunAsync(curl, ["-sS", "--cacert", $"{certs}/ca.crt", "-o", "/dev/null", "-w", "%{http_code}", $"https://{registry.Host}/v2/"], Ct);
        Assert.True(without.ExitCode != 0 || without.StandardOutput.Trim() == "000", $"a client without a certificate got through: {without.StandardOutput}");
        ProcessResult with = await ProcessRunner.RunAsync(curl, ["-sS", "--cacert", $"{certs}/ca.crt", "--cert", $"{certs}/client.cert", "--key", $"{certs}/client.key",
            "-o", "/dev/null", "-w", "%{http_code}", $"https://{registry.Host}/v2/"], Ct);
        Assert.Equal("200", with.StandardOutput.Trim());
    }
}
