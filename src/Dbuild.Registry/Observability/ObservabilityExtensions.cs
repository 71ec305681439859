using System.Net;
using Dbuild.Registry.Configuration;
using Dbuild.Registry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Observability;

/// <summary>Wires metrics and health into the registry's services and host (registry:2's <c>http.debug</c> and <c>health</c>).</summary>
internal static partial class ObservabilityExtensions
{
    /// <summary>
    /// Registers the metrics, the health check, and (when metrics are on) the measuring decorator around whichever
    /// <see cref="IStorageDriver"/> is registered at this point.
    /// </summary>
    public static IServiceCollection AddRegistryObservability(this IServiceCollection services)
    {
        services.AddSingleton(sp => new HttpMetrics(sp.GetRequiredService<IOptions<RegistryOptions>>().Value.PrometheusEnabled));
        services.AddSingleton<StorageMetrics>();
        services.AddSingleton<GcMetrics>();
        services.AddSingleton<PolicyMetrics>();
        services.AddSingleton<StorageHealthCheck>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageHealthCheck>());
        services.AddSingleton<DebugEndpoints>();
        ServiceDescriptor? driver = services.LastOrDefault(d => d.ServiceType == typeof(IStorageDriver));
        if (driver is not null && !driver.IsKeyedService)
        {
            services.Remove(driver);
            services.AddSingleton<IStorageDriver>(sp =>
            {
                IStorageDriver inner = driver.ImplementationInstance as IStorageDriver
                    ?? driver.ImplementationFactory?.Invoke(sp) as IStorageDriver
                    ?? (IStorageDriver)ActivatorUtilities.CreateInstance(sp, driver.ImplementationType!);
                return sp.GetRequiredService<IOptions<RegistryOptions>>().Value.PrometheusEnabled
                    ? new InstrumentedStorageDriver(inner, sp.GetRequiredService<StorageMetrics>())
                    : inner;
            });
        }
        return services;
    }

    /// <summary>Adds the plain-HTTP debug listener on <c>http.debug.addr</c> (registry:2's debug server has no TLS).</summary>
    public static void ListenDebug(this KestrelServerOptions kestrel, RegistryOptions options)
    {
        if (options.DebugAddress is null) { return; }
        (IPAddress? host, int port) = ParseDebugAddress(options.DebugAddress);
        if (host is null) { kestrel.ListenAnyIP(port); } else { kestrel.Listen(host, port); }
    }

    /// <summary>
    /// Serves <see cref="DebugEndpoints"/> on the debug listener's port (nothing else answers there), and, with the
    /// storage health check on, answers 503 UNAVAILABLE on the main address while it fails, as registry:2 does.
    /// </summary>
    public static void UseRegistryObservability(this WebApplication app, RegistryOptions options)
    {
        if (options.DebugAddress is not null)
        {
            int debugPort = ParseDebugAddress(options.DebugAddress).Port;
            DebugEndpoints endpoints = app.Services.GetRequiredService<DebugEndpoints>();
            app.MapWhen(context => context.Connection.LocalPort == debugPort, debug => debug.Run(endpoints.HandleAsync));
            ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Dbuild.Registry");
            string debugAddress = options.DebugAddress;
            string metrics = options.PrometheusEnabled ? options.PrometheusPath : "off";
            app.Lifetime.ApplicationStarted.Register(() => LogDebugListening(logger, debugAddress, metrics, options.HealthStorageDriverEnabled));
        }
        if (options.HealthStorageDriverEnabled)
        {
            StorageHealthCheck health = app.Services.GetRequiredService<StorageHealthCheck>();
            app.Use((context, next) => health.Error is null ? next(context) : DebugEndpoints.WriteUnavailableAsync(context));
        }
    }

    private static (IPAddress? Host, int Port) ParseDebugAddress(string address) =>
        RegistryConfigLoader.TryParseAddress(address, out IPAddress? host, out int port)
            ? (host, port)
            : throw new RegistryConfigurationException("http.debug.addr", $"'{address}' is not host:port or :port");

    [LoggerMessage(6142, LogLevel.Information, "Debug server listening on {Address} (metrics: {Metrics}, /debug/health, storage health check: {Health})")]
    private static partial void LogDebugListening(ILogger logger, string address, string metrics, bool health);
}
