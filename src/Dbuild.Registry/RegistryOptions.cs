using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry;

/// <summary>
/// Settings of <c>dbuild registry serve</c>. Filled from registry:2's <c>config.yml</c> keys by
/// <see cref="Configuration.RegistryConfigLoader"/>, or bound from the <c>Registry</c> configuration section.
/// </summary>
public sealed class RegistryOptions
{
    public const string SectionName = "Registry";

    /// <summary><c>storage.filesystem.rootdirectory</c>: the folder holding <c>docker/registry/v2/…</c>.</summary>
    [Required] public string StorageRoot { get; set; } = "";

    /// <summary>The storage driver section: <c>filesystem</c> (default) or <c>azure</c>.</summary>
    public string StorageDriver { get; set; } = "filesystem";

    /// <summary>The driver's parameters other than the filesystem root: <c>storage.azure.*</c> keys without that prefix.</summary>
    public IDictionary<string, string> StorageParameters { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary><c>storage.delete.enabled</c>: whether DELETE of manifests, tags and blobs is allowed.</summary>
    public bool DeleteEnabled { get; set; }

    /// <summary>
    /// <c>storage.redirect.disable</c>: when false, blob GETs answer 307 with the driver's short-lived URL (Azure SAS)
    /// so clients read storage directly. dbuild's default is true (bytes pass through the registry).
    /// </summary>
    public bool RedirectDisabled { get; set; } = true;

    /// <summary><c>storage.maintenance.readonly.enabled</c>: refuse every write with 405 UNSUPPORTED.</summary>
    public bool ReadOnly { get; set; }

    /// <summary><c>storage.maintenance.uploadpurging.enabled</c>.</summary>
    public bool UploadPurgingEnabled { get; set; } = true;

    /// <summary><c>storage.maintenance.uploadpurging.age</c>: uploads started longer ago are deleted.</summary>
    public TimeSpan UploadPurgingAge { get; set; } = TimeSpan.FromHours(168);

    /// <summary><c>storage.maintenance.uploadpurging.interval</c>: how often the purge runs.</summary>
    public TimeSpan UploadPurgingInterval { get; set; } = TimeSpan.FromHours(24);

    /// <summary><c>storage.maintenance.uploadpurging.dryrun</c>: only log what would be purged.</summary>
    public bool UploadPurgingDryRun { get; set; }

    /// <summary>
    /// <c>storage.maintenance.gc.enabled</c>: online garbage collection (see docs/registry-gc.md). When on, requests that
    /// tell a client a blob exists also refresh that blob's age marker, on every replica that has it on.
    /// </summary>
    public bool GcEnabled { get; set; }

    /// <summary><c>storage.maintenance.gc.interval</c>: time between GC passes.</summary>
    public TimeSpan GcInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary><c>storage.maintenance.gc.grace</c>: nothing vouched for more recently than this before a pass is swept.</summary>
    public TimeSpan GcGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary><c>storage.maintenance.gc.untagged</c>: <c>delete</c> removes manifests no tag reaches; <c>keep</c> (default) keeps them.</summary>
    public bool GcDeleteUntagged { get; set; }

    /// <summary><c>http.addr</c>: <c>host:port</c> or <c>:port</c>.</summary>
    [Required] public string Address { get; set; } = ":5000";

    /// <summary><c>http.tls.certificate</c>: PEM certificate (chain) file; TLS is on when set.</summary>
    public string? TlsCertificate { get; set; }

    /// <summary><c>http.tls.key</c>: PEM private key file.</summary>
    public string? TlsKey { get; set; }

    /// <summary><c>http.tls.clientcas</c>: PEM CA files; when set, clients must present a certificate issued by one.</summary>
    public IList<string> TlsClientCas { get; } = [];

    /// <summary><c>auth.htpasswd.realm</c>.</summary>
    public string HtpasswdRealm { get; set; } = "dbuild-registry";

    /// <summary><c>auth.htpasswd.path</c>: bcrypt htpasswd file; Basic auth is on when set.</summary>
    public string? HtpasswdPath { get; set; }

    // ---- token auth (auth.token.*): registry:2's external issuer keys and dbuild's built-in issuer ----

    /// <summary><c>auth.token.realm</c>: the token endpoint clients are sent to. With the built-in issuer it defaults to this registry's <c>/auth/token</c>.</summary>
    public string? TokenRealm { get; set; }

    /// <summary><c>auth.token.autoredirect</c> (registry:2 2.8): the realm is <c>https://HOST/auth/token</c>, HOST as the client sent it.</summary>
    public bool TokenAutoRedirect { get; set; }

    /// <summary><c>auth.token.service</c>: the service tokens are issued for (their <c>aud</c>).</summary>
    public string? TokenService { get; set; }

    /// <summary><c>auth.token.issuer</c>: the <c>iss</c> accepted from an external issuer.</summary>
    public string? TokenIssuer { get; set; }

    /// <summary><c>auth.token.rootcertbundle</c>: PEM certificates whose keys (or chains) sign external tokens.</summary>
    public string? TokenRootCertBundle { get; set; }

    /// <summary><c>auth.token.builtin.htpasswd</c>: bcrypt htpasswd file of the built-in issuer; the built-in issuer is on when set.</summary>
    public string? TokenBuiltinHtpasswd { get; set; }

    /// <summary><c>auth.token.builtin.acl</c>: the access rules file handed to <see cref="Auth.AccessRulesFactory"/>.</summary>
    public string? TokenBuiltinAcl { get; set; }

    /// <summary><c>auth.token.builtin.issuer</c>: the <c>iss</c> of built-in tokens.</summary>
    public string TokenBuiltinIssuer { get; set; } = "dbuild-registry";

    /// <summary><c>auth.token.builtin.expiration</c>: lifetime of access tokens.</summary>
    public TimeSpan TokenBuiltinExpiration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary><c>auth.token.builtin.key</c>: PEM EC P-256 signing key; when unset one is generated once and kept in storage.</summary>
    public string? TokenBuiltinKey { get; set; }

    /// <summary>Bearer tokens are required on every request (external issuer or built-in one).</summary>
    public bool TokenAuthEnabled => TokenRootCertBundle is not null || TokenBuiltinHtpasswd is not null;

    /// <summary>The service name in force: <c>auth.token.service</c>, else <c>dbuild-registry</c> for the built-in issuer.</summary>
    public string TokenServiceName => TokenService ?? "dbuild-registry";

    /// <summary><c>proxy.*</c>: a pull-through cache of one upstream (<c>proxy.remoteurl</c>) or several by prefix (<c>proxy.upstreams</c>).</summary>
    public Proxy.ProxySettings Proxy { get; } = new();

    /// <summary><c>policies.*</c> (dbuild's own keys): immutable tags, retention applied by the GC, quotas.</summary>
    public Policies.PolicySettings Policies { get; } = new();
    /// <summary><c>notifications.endpoints</c>: webhooks sent on push, pull, delete and mount (see docs/registry-notifications.md).</summary>
    public Notifications.NotificationSettings Notifications { get; } = new();

    /// <summary><c>log.level</c>.</summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    /// <summary>Manifests are buffered to verify them. Defaults to 4 MiB; larger ones get 413.</summary>
    [Range(1024, 64 * 1024 * 1024)] public int MaxManifestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long shutdown waits for in-flight requests.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>http.debug.addr</c>: a second, plain-HTTP listener for <c>/debug/health</c> and metrics; none when null.</summary>
    public string? DebugAddress { get; set; }

    /// <summary><c>http.debug.prometheus.enabled</c>: collect metrics and serve them on the debug listener.</summary>
    public bool PrometheusEnabled { get; set; }

    /// <summary><c>http.debug.prometheus.path</c>.</summary>
    public string PrometheusPath { get; set; } = "/metrics";

    /// <summary><c>health.storagedriver.enabled</c>: check the storage periodically; 503 everywhere while it fails.</summary>
    public bool HealthStorageDriverEnabled { get; set; }

    /// <summary><c>health.storagedriver.interval</c>.</summary>
    public TimeSpan HealthStorageDriverInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>health.storagedriver.threshold</c>: consecutive failures before unhealthy (0 or 1: the first one).</summary>
    public int HealthStorageDriverThreshold { get; set; }

    /// <summary><c>ui.enabled</c> (dbuild's own key; registry:2 has no UI): the read-only web UI under <c>/ui/</c>. Off by default.</summary>
    public bool UiEnabled { get; set; }

    /// <summary>Copies every setting (used to hand options read from config.yml to the options system).</summary>
    public void CopyFrom(RegistryOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        (StorageRoot, DeleteEnabled, ReadOnly, Address) = (other.StorageRoot, other.DeleteEnabled, other.ReadOnly, other.Address);
        (UploadPurgingEnabled, UploadPurgingAge, UploadPurgingInterval, UploadPurgingDryRun) =
            (other.UploadPurgingEnabled, other.UploadPurgingAge, other.UploadPurgingInterval, other.UploadPurgingDryRun);
        (TlsCertificate, TlsKey, HtpasswdRealm, HtpasswdPath) = (other.TlsCertificate, other.TlsKey, other.HtpasswdRealm, other.HtpasswdPath);
        UiEnabled = other.UiEnabled;
        (LogLevel, MaxManifestBytes, ShutdownTimeout, RedirectDisabled) = (other.LogLevel, other.MaxManifestBytes, other.ShutdownTimeout, other.RedirectDisabled);
        (GcEnabled, GcInterval, GcGrace, GcDeleteUntagged) = (other.GcEnabled, other.GcInterval, other.GcGrace, other.GcDeleteUntagged);
        (TokenRealm, TokenService, TokenIssuer, TokenRootCertBundle, TokenAutoRedirect) =
            (other.TokenRealm, other.TokenService, other.TokenIssuer, other.TokenRootCertBundle, other.TokenAutoRedirect);
        (TokenBuiltinHtpasswd, TokenBuiltinAcl, TokenBuiltinIssuer, TokenBuiltinExpiration, TokenBuiltinKey) =
            (other.TokenBuiltinHtpasswd, other.TokenBuiltinAcl, other.TokenBuiltinIssuer, other.TokenBuiltinExpiration, other.TokenBuiltinKey);
        (DebugAddress, PrometheusEnabled, PrometheusPath) = (other.DebugAddress, other.PrometheusEnabled, other.PrometheusPath);
        (HealthStorageDriverEnabled, HealthStorageDriverInterval, HealthStorageDriverThreshold) =
            (other.HealthStorageDriverEnabled, other.HealthStorageDriverInterval, other.HealthStorageDriverThreshold);
        TlsClientCas.Clear();
        foreach (string ca in other.TlsClientCas) { TlsClientCas.Add(ca); }
        StorageDriver = other.StorageDriver;
        Proxy.CopyFrom(other.Proxy);
        Policies.CopyFrom(other.Policies);
        Notifications.CopyFrom(other.Notifications);
        StorageParameters.Clear();
        foreach ((string key, string value) in other.StorageParameters) { StorageParameters[key] = value; }
    }
}

[OptionsValidator]
internal sealed partial class RegistryOptionsValidator : IValidateOptions<RegistryOptions>;
