using System.Net;
using System.Security.Cryptography.X509Certificates;
using Dbuild.Registry.Configuration;
using Dbuild.Registry.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Hosting;

/// <summary>Builds the web host behind <c>dbuild registry serve</c>: Kestrel on <c>http.addr</c>, TLS, logging, shutdown.</summary>
public static class RegistryHost
{
    /// <summary>Requests other than uploads are small; uploads lift the limit for themselves.</summary>
    private const long DefaultMaxRequestBodyBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Creates the application; <paramref name="warnings"/> (e.g. unknown config keys) are logged once it exists.
    /// <paramref name="addStorage"/> registers a storage driver other than the filesystem one (the CLI's Azure driver).
    /// </summary>
    public static WebApplication Create(RegistryOptions options, IEnumerable<string>? warnings = null, Action<IServiceCollection>? addStorage = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        // The simple console formatter's single-line format, written in batches (one access-log line per request).
        builder.Services.AddSingleton<ILoggerProvider>(_ => new BatchingConsoleLoggerProvider());
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft", level => level >= LogLevel.Warning && level >= options.LogLevel);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        addStorage?.Invoke(builder.Services);
        builder.Services.AddDbuildRegistry(target => target.CopyFrom(options));
        builder.WebHost.UseKestrelHttpsConfiguration();
        // Kestrel receives into one pool block per recv: blocks of 128 KiB instead of 4 KiB (registered after
        // UseSockets, so the transport takes this factory) cut a layer upload's receive syscalls 32-fold. The zero-byte
        // "wait for data" read before each one is skipped too, at the cost of one block per idle connection.
        builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPool.Factory>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = DefaultMaxRequestBodyBytes;
            // Larger pipes let a layer's bytes keep flowing while the other side hashes or writes (64 KiB and 1 MiB by
            // default); they are per connection and bounded, so memory stays flat with blob size.
            kestrel.Limits.MaxResponseBufferSize = 1024 * 1024;
            kestrel.Limits.MaxRequestBufferSize = 2 * 1024 * 1024;
            // A slow client must not be cut off mid-layer; the minimum rate guards against idle connections only.
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1, gracePeriod: TimeSpan.FromSeconds(60));
            if (!RegistryConfigLoader.TryParseAddress(options.Address, out IPAddress? host, out int port))
            {
                throw new RegistryConfigurationException("http.addr", $"'{options.Address}' is not host:port or :port");
            }
            Action<ListenOptions> configure = listen => ConfigureTls(listen, options);
            if (host is null) { kestrel.ListenAnyIP(port, configure); } else { kestrel.Listen(host, port, configure); }
            kestrel.ListenDebug(options);
        });
        WebApplication app = builder.Build();
        app.UseRegistryObservability(options);
        app.MapDistributionApi();
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Dbuild.Registry");
        foreach (string warning in warnings ?? []) { Log.ConfigurationWarning(logger, warning); }
        app.Lifetime.ApplicationStarted.Register(() => Log.Listening(logger, options.Address, options.TlsCertificate is not null,
            options.HtpasswdPath is not null || options.TokenAuthEnabled, options.StorageDriver == "filesystem" ? options.StorageRoot : options.StorageDriver, options.ReadOnly));
        return app;
    }

    private static void ConfigureTls(ListenOptions listen, RegistryOptions options)
    {
        if (options.TlsCertificate is null || options.TlsKey is null) { return; }
        X509Certificate2 certificate;
        X509Certificate2Collection chain = [];
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(options.TlsCertificate, options.TlsKey);
            chain.ImportFromPemFile(options.TlsCertificate);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException)
        {
            throw new RegistryConfigurationException("http.tls.certificate", $"cannot load '{options.TlsCertificate}' with key '{options.TlsKey}': {ex.Message}");
        }
        X509Certificate2Collection clientCas = [];
        foreach (string ca in options.TlsClientCas)
        {
            try { clientCas.ImportFromPemFile(ca); }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                throw new RegistryConfigurationException("http.tls.clientcas", $"cannot load '{ca}': {ex.Message}");
            }
        }
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            ServerCertificateChain = chain.Count > 1 ? [.. chain.Skip(1)] : null,
        };
        if (clientCas.Count > 0)
        {
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (client, _, _) => IsIssuedBy(client, clientCas);
        }
        listen.UseHttps(https);
    }

    /// <summary>Client certificates must chain to one of the configured CAs (not to the system store).</summary>
    internal static bool IsIssuedBy(X509Certificate2 client, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        return chain.Build(client);
    }
}
