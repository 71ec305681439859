using System.Collections.Concurrent;
using System.Net;

namespace Dbuild.Registry.Client;

/// <summary>
/// The registry hosts a process knows how to reach: the configuration file's <c>[registry."host"]</c> entries, the
/// certs.d directories (docker's <c>/etc/docker/certs.d/HOST[:PORT]/</c>: <c>*.crt</c> CAs, <c>*.cert</c> + <c>*.key</c>
/// client pairs) and docker's defaults (loopback is insecure). Also remembers, per host, what the first connection
/// learned: that an insecure host speaks plain HTTP, or why its certificate was refused. Thread-safe.
/// </summary>
/// <remarks>https://docs.docker.com/engine/security/certificates/</remarks>
public sealed class RegistryHosts
{
    /// <summary>Docker's certs.d root, used when no other is given.</summary>
    public const string DefaultCertsDirectory = "/etc/docker/certs.d";

    private readonly Dictionary<string, RegistryHostConfig> _configured;
    private readonly ConcurrentDictionary<string, RegistryHostConfig> _resolved = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _plainHttp = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _insecure = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _speaksTls = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _certificateProblems = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the set from configured entries (keyed by <c>host[:port]</c>), a certs.d root and the file they came from.</summary>
    public RegistryHosts(IReadOnlyDictionary<string, RegistryHostConfig>? configured = null, string? certsDirectory = null, string? configFile = null)
    {
        _configured = new Dictionary<string, RegistryHostConfig>(configured ?? new Dictionary<string, RegistryHostConfig>(), StringComparer.OrdinalIgnoreCase);
        CertsDirectory = certsDirectory ?? DefaultCertsDirectory;
        ConfigFile = configFile;
    }

    /// <summary>The certs.d root whose <c>HOST[:PORT]</c> folders are read.</summary>
    public string CertsDirectory { get; }

    /// <summary>The configuration file the entries came from, named in hints; null when none was read.</summary>
    public string? ConfigFile { get; }

    /// <summary>The settings for <paramref name="host"/> (<c>host[:port]</c>, as in a reference): the file's entry plus its certs.d folder.</summary>
    public RegistryHostConfig Get(string host) => _resolved.GetOrAdd(host, h =>
    {
        RegistryHostConfig config = _configured.TryGetValue(h, out RegistryHostConfig? entry) ? entry : new RegistryHostConfig();
        return config.Merge(ReadCertsDirectory(Path.Combine(CertsDirectory, h)));
    });

    /// <summary>True when certificates of <paramref name="host"/> are not verified: configured insecure, or loopback (docker's default 127.0.0.0/8).</summary>
    public bool IsInsecure(string host) => _insecure.ContainsKey(host) || (Get(host).Insecure ?? IsLoopback(host));

    /// <summary>Makes <paramref name="host"/> insecure for this process (a command's <c>--insecure</c>); call before its first request.</summary>
    public void AllowInsecure(string host) => _insecure[host] = true;

    /// <summary>True when requests to <paramref name="host"/> go over plain HTTP: configured so, or an insecure host that turned out not to speak TLS.</summary>
    public bool UsesPlainHttp(string host) => Get(host).Http || _plainHttp.ContainsKey(host);

    /// <summary>
    /// True when a TLS failure on <paramref name="host"/> may be answered by trying plain HTTP (docker's fallback for
    /// insecure registries): the host is insecure and never presented a certificate, so it does not speak TLS.
    /// </summary>
    public bool MayFallBackToHttp(string host) => !Get(host).Http && IsInsecure(host) && !_speaksTls.ContainsKey(host);

    /// <summary>True once <paramref name="host"/> has presented a certificate.</summary>
    public bool SpeaksTls(string host) => _speaksTls.ContainsKey(host);

    /// <summary>Records that <paramref name="host"/> presented a certificate: its TLS failures are TLS problems, not a plain HTTP server.</summary>
    public void RecordSpeaksTls(string host) => _speaksTls[host] = true;

    /// <summary>Records that <paramref name="host"/> does not speak TLS.</summary>
    public void FallBackToHttp(string host) => _plainHttp[host] = true;

    /// <summary>Records why the certificate of <paramref name="host"/> was refused (Go's x509 wording), for the error that follows.</summary>
    public void RecordCertificateProblem(string host, string problem) => _certificateProblems[host] = problem;

    /// <summary>The last certificate problem recorded for <paramref name="host"/> (kept: parallel requests to the host fail alike).</summary>
    public string? CertificateProblemOf(string host) => _certificateProblems.TryGetValue(host, out string? problem) ? problem : null;

    /// <summary>How to get past <paramref name="problem"/> on <paramref name="host"/>, for error messages.</summary>
    public string TrustHint(string host, string problem)
    {
        string insecure = $"set insecure = true under [registry.\"{host}\"] in {ConfigFile ?? "the dbuild configuration file"}";
        return problem.Contains("unknown authority", StringComparison.Ordinal)
            ? $"Put the registry's CA certificate in {Path.Combine(CertsDirectory, host, "ca.crt")} or {insecure}."
            : problem.Contains("valid for", StringComparison.Ordinal) || problem.Contains("any names", StringComparison.Ordinal) || problem.Contains("Common Name", StringComparison.Ordinal)
            ? $"Use a host name the certificate names, or {insecure}."
            : $"Renew the registry's certificate, or {insecure}.";
    }

    /// <summary>True for <c>localhost</c> and loopback addresses, with or without a port.</summary>
    public static bool IsLoopback(string host)
    {
        string name = host;
        if (name.StartsWith('['))
        {
            int close = name.IndexOf(']', StringComparison.Ordinal);
            name = close > 0 ? name[1..close] : name;
        }
        else if (name.LastIndexOf(':') is int colon and > 0) { name = name[..colon]; }
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(name, out IPAddress? address) && IPAddress.IsLoopback(address));
    }

    /// <summary>Docker's reading of a certs.d folder: every <c>*.crt</c> is a CA; every <c>X.cert</c> needs <c>X.key</c> beside it.</summary>
    private static RegistryHostConfig ReadCertsDirectory(string directory)
    {
        if (!Directory.Exists(directory)) { return new RegistryHostConfig(); }
        var cas = new List<string>();
        var pairs = new List<ClientKeyPair>();
        foreach (string file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            string extension = Path.GetExtension(file);
            if (extension == ".crt") { cas.Add(file); }
            else if (extension == ".cert")
            {
                string key = Path.ChangeExtension(file, ".key");
                if (!File.Exists(key)) { throw new InvalidOperationException($"{file}: missing key {Path.GetFileName(key)} for client certificate {Path.GetFileName(file)}."); }
                pairs.Add(new ClientKeyPair(file, key));
            }
            else if (extension == ".key" && !File.Exists(Path.ChangeExtension(file, ".cert")))
            {
                throw new InvalidOperationException($"{file}: missing client certificate {Path.GetFileNameWithoutExtension(file)}.cert for key {Path.GetFileName(file)}.");
            }
        }
        return new RegistryHostConfig { CaFiles = cas, KeyPairs = pairs };
    }
}
