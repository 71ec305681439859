using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Dbuild.Registry.Client;

/// <summary>
/// Names why a server certificate was refused in the words docker users know from Go's crypto/x509, checked in Go's
/// order: validity period, then the host name, then the chain.
/// </summary>
/// <remarks>https://pkg.go.dev/crypto/x509#Certificate.Verify</remarks>
public static class CertificateProblem
{
    /// <summary>One line for a refused certificate of <paramref name="host"/> (<c>host[:port]</c>).</summary>
    public static string Describe(string host, X509Certificate2 certificate, SslPolicyErrors errors, X509ChainStatusFlags chainStatus, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if ((chainStatus & X509ChainStatusFlags.NotTimeValid) != 0 || now < certificate.NotBefore || now > certificate.NotAfter)
        {
            bool early = now < certificate.NotBefore;
            return $"x509: certificate has expired or is not yet valid: current time {Rfc3339(now)} is {(early ? "before" : "after")} " +
                Rfc3339(early ? certificate.NotBefore : certificate.NotAfter);
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) { return NameMismatch(HostName(host), certificate); }
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return (chainStatus & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0 || chainStatus == X509ChainStatusFlags.NoError
                ? "x509: certificate signed by unknown authority"
                : $"x509: certificate chain is not valid ({chainStatus})";
        }
        return errors == SslPolicyErrors.RemoteCertificateNotAvailable ? "tls: the server sent no certificate" : $"tls: certificate refused ({errors})";
    }

    private static string NameMismatch(string name, X509Certificate2 certificate)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (IPAddress.TryParse(name, out _))
        {
            string[] addresses = san is null ? [] : [.. san.EnumerateIPAddresses().Select(a => a.ToString())];
            return addresses.Length == 0
                ? $"x509: cannot validate certificate for {name} because it doesn't contain any IP SANs"
                : $"x509: certificate is valid for {string.Join(", ", addresses)}, not {name}";
        }
        if (san is null) { return "x509: certificate relies on legacy Common Name field, use SANs instead"; }
        string[] names = [.. san.EnumerateDnsNames()];
        return names.Length == 0
            ? $"x509: certificate is not valid for any names, but wanted to match {name}"
            : $"x509: certificate is valid for {string.Join(", ", names)}, not {name}";
    }

    private static string HostName(string host)
    {
        if (host.StartsWith('[')) { return host[1..Math.Max(1, host.IndexOf(']', StringComparison.Ordinal))]; }
        int colon = host.LastIndexOf(':');
        return colon > 0 ? host[..colon] : host;
    }

    private static string Rfc3339(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Rfc3339(DateTime time) => Rfc3339(new DateTimeOffset(time.ToUniversalTime()));
}
