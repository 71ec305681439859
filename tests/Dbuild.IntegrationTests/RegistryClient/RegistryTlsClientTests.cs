using Dbuild.IntegrationTests.Registry;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.RegistryClient;

/// <summary>
/// The dbuild CLI against real TLS registries on 127.0.0.1 (dbuild registry serve with a throwaway CA): certs.d CAs
/// and client certificates, dbuild.toml's insecure/http/ca/mirrors, and the one-line certificate errors.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryTlsClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A work folder with certificates, a plain registry holding busybox:1 and a dbuild root that pulled it.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private Setup(TempDirectory work, string certs, RegistryServer plain) => (Work, Certs, Plain) = (work, certs, plain);

        public TempDirectory Work { get; }
        public string Certs { get; }
        public RegistryServer Plain { get; }
        public string Root => Work.Combine("root");
        public string CertsD => Work.Combine("certs.d");
        public string ConfigFile => Work.Combine("dbuild.toml");

        public static async Task<Setup> StartAsync()
        {
            string busybox = Prerequisites.RequireBusyboxLayout();
            var work = new TempDirectory();
            string certs = await RegistryTlsTests.MakeCertificatesAsync(work.Combine("certs"));
            RegistryServer plain = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("plain-data"), Ct);
            await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{plain.Host}/lib/busybox:1");
            var setup = new Setup(work, certs, plain);
            Directory.CreateDirectory(setup.CertsD);
            File.WriteAllText(setup.ConfigFile, "");
            (await setup.DbuildAsync("pull", $"{plain.Host}/lib/busybox:1")).EnsureSuccess();
            return setup;
        }

        public Task<RegistryServer> StartTlsAsync(bool clientCas = false) =>
            RegistryServer.StartDbuildAsync(Work.Path, Work.Combine($"tls-data-{Guid.NewGuid():N}"), Ct,
                extraHttp: $"  tls:\n    certificate: {Certs}/server.crt\n    key: {Certs}/server.key\n" + (clientCas ? $"    clientcas:\n      - {Certs}/ca.crt\n" : ""));

        public Task<ProcessResult> DbuildAsync(params string[] arguments) =>
            DbuildCli.RunAsync(["--root", Root, .. arguments], Ct, new Dictionary<string, string?>
            {
                ["DBUILD_CONFIG"] = ConfigFile,
                ["DBUILD_CERTS_D"] = CertsD,
                ["DOCKER_CONFIG"] = Work.Combine("docker-config"),
            }, timeout: TimeSpan.FromMinutes(3));

        /// <summary>Tags the pulled busybox for <paramref name="host"/>, pushes it and pulls it back.</summary>
        public async Task<(ProcessResult Push, ProcessResult Pull)> RoundTripAsync(string host, string repository)
        {
            (await DbuildAsync("tag", $"{Plain.Host}/lib/busybox:1", $"{host}/{repository}:1")).EnsureSuccess();
            ProcessResult push = await DbuildAsync("push", $"{host}/{repository}:1");
            ProcessResult pull = await DbuildAsync("pull", $"{host}/{repository}:1");
            return (push, pull);
        }

        public async ValueTask DisposeAsync()
        {
            await Plain.DisposeAsync();
            Work.Dispose();
        }
    }

    private static void AssertOneLineError(ProcessResult result, params string[] fragments)
    {
        Assert.Equal(1, result.ExitCode);
        string error = result.StandardError.TrimEnd();
        Assert.DoesNotContain('\n', error);
        Assert.DoesNotContain("inner exception", error, StringComparison.Ordinal);
        foreach (string fragment in fragments) { Assert.Contains(fragment, error, StringComparison.Ordinal); }
    }

    [Fact]
    public async Task SecureLoopback_CaInCertsD_PushesAndPulls_WithoutIt_NamesTheUnknownAuthority()
    {
        await using Setup setup = await Setup.StartAsync();
        await using RegistryServer tls = await setup.StartTlsAsync();
        // Loopback is insecure by default (docker's 127.0.0.0/8); insecure = false makes dbuild verify it.
        File.WriteAllText(setup.ConfigFile, $"[registry.\"{tls.Host}\"]\n  insecure = false\n");

        (ProcessResult push, ProcessResult pull) = await setup.RoundTripAsync(tls.Host, "secure/busybox");
        AssertOneLineError(push, "x509: certificate signed by unknown authority", Path.Combine(setup.CertsD, tls.Host, "ca.crt"), "insecure = true", setup.ConfigFile);
        AssertOneLineError(pull, "x509: certificate signed by unknown authority");

        RegistryTlsTests.CertDir(setup.Certs, Path.Combine(setup.CertsD, tls.Host), withClientCertificate: false);
        (push, pull) = await setup.RoundTripAsync(tls.Host, "secure/busybox");
        push.EnsureSuccess();
        pull.EnsureSuccess();
        Assert.Contains($"{tls.Host}/secure/busybox:1", pull.StandardOutput, StringComparison.Ordinal);
        string raw = await Tools.SkopeoAsync(Ct, "inspect", "--raw", "--cert-dir", Path.Combine(setup.CertsD, tls.Host), $"docker://{tls.Host}/secure/busybox:1");
        Assert.Contains("\"layers\"", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registry2WithTls_CaInCertsD_PushesAndPulls_WithoutIt_NamesTheUnknownAuthority()
    {
        await using Setup setup = await Setup.StartAsync();
        int port = RegistryServer.FreePort();
        string data = setup.Work.Combine("registry2-data");
        string config = RegistryServer.WriteConfig(setup.Work.Path, data, port,
            extraHttp: $"  tls:\n    certificate: {setup.Certs}/server.crt\n    key: {setup.Certs}/server.key\n");
        // Go answers a plain HTTP probe with a 400, which is enough for the start-up wait.
        await using RegistryServer registry2 = await RegistryServer.StartRegistry2Async(config, port, data, Ct);
        File.WriteAllText(setup.ConfigFile, $"[registry.\"{registry2.Host}\"]\n  insecure = false\n");

        (ProcessResult push, _) = await setup.RoundTripAsync(registry2.Host, "distribution/busybox");
        AssertOneLineError(push, "x509: certificate signed by unknown authority", Path.Combine(setup.CertsD, registry2.Host, "ca.crt"));

        RegistryTlsTests.CertDir(setup.Certs, Path.Combine(setup.CertsD, registry2.Host), withClientCertificate: false);
        (push, ProcessResult pull) = await setup.RoundTripAsync(registry2.Host, "distribution/busybox");
        push.EnsureSuccess();
        pull.EnsureSuccess();
        string raw = await Tools.SkopeoAsync(Ct, "inspect", "--raw", "--cert-dir", Path.Combine(setup.CertsD, registry2.Host), $"docker://{registry2.Host}/distribution/busybox:1");
        Assert.Contains("\"layers\"", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecureHost_NameNotInTheCertificate_SaysSoInOneLine()
    {
        await using Setup setup = await Setup.StartAsync();
        await using RegistryServer tls = await setup.StartTlsAsync();
        string localhost = $"localhost:{tls.Port}";
        File.WriteAllText(setup.ConfigFile, $"[registry.\"{localhost}\"]\n  insecure = false\n  ca = [\"{setup.Certs}/ca.crt\"]\n");
        (ProcessResult push, _) = await setup.RoundTripAsync(localhost, "named/busybox");
        // The server certificate names only IP:127.0.0.1 (Go: "not valid for any names" when a SAN extension has no DNS names).
        AssertOneLineError(push, "x509: certificate is not valid for any names, but wanted to match localhost", "insecure = true");
    }

    [Fact]
    public async Task DefaultLoopback_TlsRegistry_IsReachedWithoutVerification_AndPlainHttpByFallback()
    {
        await using Setup setup = await Setup.StartAsync();
        await using RegistryServer tls = await setup.StartTlsAsync();
        (ProcessResult push, ProcessResult pull) = await setup.RoundTripAsync(tls.Host, "loopback/busybox");
        push.EnsureSuccess();
        pull.EnsureSuccess();
        // The plain registry was reached over HTTP after the TLS attempt (setup's pull); again by a push:
        (push, pull) = await setup.RoundTripAsync(setup.Plain.Host, "loopback/again");
        push.EnsureSuccess();
        pull.EnsureSuccess();
    }

    [Fact]
    public async Task MutualTls_ClientCertInCertsD_IsOffered_WithoutIt_TheErrorSaysWhereToPutIt()
    {
        await using Setup setup = await Setup.StartAsync();
        await using RegistryServer mtls = await setup.StartTlsAsync(clientCas: true);
        File.WriteAllText(setup.ConfigFile, $"[registry.\"{mtls.Host}\"]\n  insecure = false\n");
        string hostDir = Path.Combine(setup.CertsD, mtls.Host);
        RegistryTlsTests.CertDir(setup.Certs, hostDir, withClientCertificate: false);

        (ProcessResult push, _) = await setup.RoundTripAsync(mtls.Host, "mtls/busybox");
        AssertOneLineError(push, "client.cert", hostDir);

        RegistryTlsTests.CertDir(setup.Certs, hostDir, withClientCertificate: true);
        (push, ProcessResult pull) = await setup.RoundTripAsync(mtls.Host, "mtls/busybox");
        push.EnsureSuccess();
        pull.EnsureSuccess();
    }

    [Fact]
    public async Task ConfigFile_CaAndKeypair_InsteadOfCertsD()
    {
        await using Setup setup = await Setup.StartAsync();
        await using RegistryServer mtls = await setup.StartTlsAsync(clientCas: true);
        File.WriteAllText(setup.ConfigFile, $"""
            [registry."{mtls.Host}"]
              insecure = false
              ca = ["certs/ca.crt"]
              [[registry."{mtls.Host}".keypair]]
                key = "{setup.Certs}/client.key"
                cert = "{setup.Certs}/client.cert"
            """);
        (ProcessResult push, ProcessResult pull) = await setup.RoundTripAsync(mtls.Host, "configured/busybox");
        push.EnsureSuccess();
        pull.EnsureSuccess();
    }

    [Fact]
    public async Task ConfigFile_InsecureTrue_SkipsVerification_HttpTrue_SpeaksPlainHttpOnly()
    {
        await using Setup setup = await Setup.StartAsync();
        await using RegistryServer tls = await setup.StartTlsAsync();
        // 'localhost' would fail the name check when verified; insecure = true skips verification.
        string localhost = $"localhost:{tls.Port}";
        File.WriteAllText(setup.ConfigFile, $"[registry.\"{localhost}\"]\n  insecure = true\n[registry.\"{tls.Host}\"]\n  http = true\n");
        (ProcessResult push, ProcessResult pull) = await setup.RoundTripAsync(localhost, "insecure/busybox");
        push.EnsureSuccess();
        pull.EnsureSuccess();

        // http = true: plain HTTP only, so the TLS registry cannot answer (no TLS attempt, no fallback to it).
        (push, _) = await setup.RoundTripAsync(tls.Host, "http/busybox");
        Assert.Equal(1, push.ExitCode);
        File.WriteAllText(setup.ConfigFile, $"[registry.\"{setup.Plain.Host}\"]\n  http = true\n");
        (push, pull) = await setup.RoundTripAsync(setup.Plain.Host, "http/busybox");
        push.EnsureSuccess();
        pull.EnsureSuccess();
    }

    [Fact]
    public async Task ConfigFile_Mirrors_ArePulledFromBeforeTheRegistry()
    {
        await using Setup setup = await Setup.StartAsync();
        // Nothing listens on the origin: only the mirror can answer the pull.
        string origin = $"127.0.0.1:{RegistryServer.FreePort()}";
        File.WriteAllText(setup.ConfigFile, $"[registry.\"{origin}\"]\n  mirrors = [\"{setup.Plain.Host}\"]\n");
        ProcessResult pull = await setup.DbuildAsync("pull", $"{origin}/lib/busybox:1");
        pull.EnsureSuccess();
        Assert.Contains($"{origin}/lib/busybox:1", pull.StandardOutput, StringComparison.Ordinal);

        File.WriteAllText(setup.ConfigFile, "");
        ProcessResult direct = await setup.DbuildAsync("pull", $"{origin}/lib/busybox:1");
        Assert.Equal(1, direct.ExitCode);
    }

    [Fact]
    public async Task ConfigFile_UnknownKey_IsNamedWithTheFile()
    {
        await using Setup setup = await Setup.StartAsync();
        File.WriteAllText(setup.ConfigFile, $"[registry.\"{setup.Plain.Host}\"]\n  insecur = true\n");
        ProcessResult pull = await setup.DbuildAsync("pull", $"{setup.Plain.Host}/lib/busybox:1");
        Assert.NotEqual(0, pull.ExitCode);
        Assert.Contains($"{setup.ConfigFile}: [registry.\"{setup.Plain.Host}\"]: unknown key 'insecur'", pull.StandardError, StringComparison.Ordinal);
    }
}
