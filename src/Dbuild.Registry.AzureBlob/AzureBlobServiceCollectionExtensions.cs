using Dbuild.Registry.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dbuild.Registry.AzureBlob;

/// <summary>Registers the Azure driver in place of the filesystem one: call before <c>AddDbuildRegistry()</c>.</summary>
public static class AzureBlobServiceCollectionExtensions
{
    public static IServiceCollection AddAzureBlobStorage(this IServiceCollection services, AzureBlobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddSingleton(sp => AzureBlobDriver.Create(settings, sp.GetService<TimeProvider>()));
        services.AddSingleton<IStorageDriver>(sp => sp.GetRequiredService<AzureBlobDriver>());
        services.AddHostedService<ContainerInitializer>();
        return services;
    }

    /// <summary>Creates the container when it is missing, before the registry starts listening.</summary>
    private sealed class ContainerInitializer(AzureBlobDriver driver) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => driver.EnsureContainerAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
