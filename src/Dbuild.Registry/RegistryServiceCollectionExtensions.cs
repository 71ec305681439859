using Dbuild.Registry.Api;
using Dbuild.Registry.Auth;
using Dbuild.Registry.Hosting;
using Dbuild.Registry.Notifications;
using Dbuild.Registry.Observability;
using Dbuild.Registry.Proxy;
using Dbuild.Registry.Storage;
using Dbuild.Registry.Ui;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry;

/// <summary>Registers and maps the registry: <c>services.AddDbuildRegistry()</c>, then <c>app.MapDistributionApi()</c>.</summary>
public static class RegistryServiceCollectionExtensions
{
    /// <summary>
    /// Adds the distribution API's services, options bound from the <c>Registry</c> section, validated at start, and the
    /// filesystem storage driver unless an <see cref="IStorageDriver"/> is already registered.
    /// </summary>
    public static IServiceCollection AddDbuildRegistry(this IServiceCollection services, Action<RegistryOptions>? configure = null)
    {
        services.AddOptions<RegistryOptions>().BindConfiguration(RegistryOptions.SectionName).ValidateOnStart();
        if (configure is not null) { services.Configure(configure); }
        services.AddSingleton<IValidateOptions<RegistryOptions>, RegistryOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IStorageDriver>(sp => new FileSystemDriver(sp.GetRequiredService<IOptions<RegistryOptions>>().Value.StorageRoot));
        services.TryAddSingleton(sp =>
        {
            RegistryOptions settings = sp.GetRequiredService<IOptions<RegistryOptions>>().Value;
            return new BlobMarkers(sp.GetRequiredService<IStorageDriver>(), sp.GetRequiredService<TimeProvider>(), settings.GcEnabled, settings.GcGrace);
        });
        services.TryAddSingleton<RegistryStorage>();
        services.TryAddSingleton<HtpasswdAuthenticator>();
        services.TryAddSingleton<PullThroughCache>();
        services.TryAddSingleton<ProxyBlobFetcher>();
        services.TryAddSingleton<Policies.ImmutableTags>();
        services.TryAddSingleton<Policies.QuotaEnforcer>();
        services.TryAddSingleton<DistributionHandler>();
        // Notifications (notifications.endpoints): events queued in storage, sent by a background service.
        services.TryAddSingleton<EventNotifier>();
        services.TryAddSingleton<NotificationMetrics>();
        services.AddHostedService<NotificationService>();
        // Token auth: the built-in issuer's key, rules and endpoint, and bearer verification on every /v2 request.
        services.TryAddSingleton<IAccessRules>(sp => AccessRulesFactory.Create(sp.GetRequiredService<IOptions<RegistryOptions>>().Value.TokenBuiltinAcl,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton<BuiltinTokenKey>();
        services.AddHostedService<TokenAuthStartup>();
        services.TryAddSingleton<TokenVerifier>();
        services.TryAddSingleton<BearerAuthorizer>();
        services.TryAddSingleton<TokenIssuer>();
        services.TryAddSingleton<TokenEndpoint>();
        services.AddSingleton<UploadPurger>();
        services.AddHostedService(sp => sp.GetRequiredService<UploadPurger>());
        services.AddSingleton<GcService>();
        services.AddHostedService(sp => sp.GetRequiredService<GcService>());
        services.TryAddSingleton<UiAccess>(); // the web UI (ui.enabled)
        services.TryAddSingleton<UiReader>();
        services.TryAddSingleton<UiRepositoryList>();
        services.AddRegistryObservability(); // last: it decorates the storage driver registered above
        return services;
    }

    /// <summary>
    /// Maps <c>/v2/</c> and <c>/v2/{**path}</c> for every method the distribution spec uses; the path is parsed by
    /// <see cref="DistributionPath"/> because repository names contain <c>/</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapDistributionApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        string[] methods = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"];
        RequestDelegate handler = context => context.RequestServices.GetRequiredService<DistributionHandler>().HandleAsync(context);
        endpoints.MapMethods("/v2", methods, handler);
        endpoints.MapMethods("/v2/{**path}", methods, handler);
        endpoints.MapMethods(TokenEndpoint.Path, ["GET", "POST"], context => context.RequestServices.GetRequiredService<TokenEndpoint>().HandleAsync(context));
        endpoints.MapRegistryUi(); // only with ui.enabled
        return endpoints;
    }
}
