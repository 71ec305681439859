using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dbuild.Registry.Client;

/// <summary>
/// The process's HTTP handler for registries: one <see cref="SocketsHttpHandler"/> per host, whose TLS settings come
/// from <see cref="RegistryHosts"/> (extra CAs and client certificates from certs.d and the configuration file;
/// no verification for insecure hosts). A refused certificate is described in Go's x509 words and recorded on the host.
/// </summary>
public sealed class RegistryHttpHandler : HttpMessageHandler
{
    private readonly RegistryHosts _hosts;
    private readonly ConcurrentDictionary<string, Lazy<HttpMessageInvoker>> _handlers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the handler over the process's host settings.</summary>
    public RegistryHttpHandler(RegistryHosts hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        _hosts = hosts;
    }

    /// <summary>How long a TCP connection (and TLS handshake) may take to establish. Defaults to 30 s, as docker's dialer.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc/>
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Uri uri = request.RequestUri ?? throw new InvalidOperationException("A registry request needs an absolute URI.");
        // Plain HTTP shares one handler; TLS settings are per host (the URI's authority, docker's certs.d folder name).
        string key = uri.Scheme == Uri.UriSchemeHttps ? uri.Authority : "";
        HttpMessageInvoker invoker = _handlers.GetOrAdd(key, k => new Lazy<HttpMessageInvoker>(() => new HttpMessageInvoker(CreateHandler(k), disposeHandler: true))).Value;
        return invoker.SendAsync(request, cancellationToken);
    }

    private SocketsHttpHandler CreateHandler(string host)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            MaxConnectionsPerServer = 16,
            ConnectTimeout = ConnectTimeout,
        };
        if (host.Length == 0) { return handler; }
        RegistryHostConfig config = _hosts.Get(host);
        bool insecure = _hosts.IsInsecure(host);
        X509Certificate2Collection cas = LoadCas(config.CaFiles);
        handler.SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                if (certificate is not null) { _hosts.RecordSpeaksTls(host); }
                return insecure || Validate(host, cas, certificate, chain, errors);
            },
            ClientCertificates = config.KeyPairs.Count == 0 ? null : LoadKeyPairs(config.KeyPairs),
        };
        return handler;
    }

    private bool Validate(string host, X509Certificate2Collection cas, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None) { return true; }
        if (certificate is null)
        {
            _hosts.RecordCertificateProblem(host, "tls: the server sent no certificate");
            return false;
        }
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        X509ChainStatusFlags chainStatus = chain is null ? X509ChainStatusFlags.NoError : Flags(chain.ChainStatus);
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 && cas.Count > 0)
        {
            // certs.d CAs are added to the system's trust for this host (docker appends them to the system pool).
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(cas);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain is not null)
            {
                foreach (X509ChainElement element in chain.ChainElements) { custom.ChainPolicy.ExtraStore.Add(element.Certificate); }
            }
            if (custom.Build(leaf)) { errors &= ~SslPolicyErrors.RemoteCertificateChainErrors; }
            else { chainStatus = Flags(custom.ChainStatus); }
        }
        if (errors == SslPolicyErrors.None) { return true; }
        _hosts.RecordCertificateProblem(host, CertificateProblem.Describe(host, leaf, errors, chainStatus, DateTimeOffset.UtcNow));
        return false;
    }

    private static X509ChainStatusFlags Flags(X509ChainStatus[] statuses) =>
        statuses.Aggregate(X509ChainStatusFlags.NoError, (all, status) => all | status.Status);

    private static X509Certificate2Collection LoadCas(IReadOnlyList<string> files)
    {
        var cas = new X509Certificate2Collection();
        foreach (string file in files)
        {
            try { cas.ImportFromPemFile(file); }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"{file}: not a readable PEM CA certificate: {ex.Message}", ex);
            }
        }
        return cas;
    }

    private static X509CertificateCollection LoadKeyPairs(IReadOnlyList<ClientKeyPair> pairs)
    {
        var certificates = new X509CertificateCollection();
        foreach (ClientKeyPair pair in pairs)
        {
            try
            {
                using X509Certificate2 ephemeral = X509Certificate2.CreateFromPemFile(pair.CertificateFile, pair.KeyFile);
                // SslStream wants a key it can use for the handshake; a PKCS#12 round trip gives it one on every platform.
                certificates.Add(X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null));
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"{pair.CertificateFile} with {pair.KeyFile}: not a readable PEM client certificate and key: {ex.Message}", ex);
            }
        }
        return certificates;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (Lazy<HttpMessageInvoker> invoker in _handlers.Values.Where(l => l.IsValueCreated)) { invoker.Value.Dispose(); }
        }
        base.Dispose(disposing);
    }
}
