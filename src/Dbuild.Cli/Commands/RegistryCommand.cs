using System.Collections;
using System.CommandLine;
using Dbuild.Registry;
using Dbuild.Registry.AzureBlob;
using Dbuild.Registry.Configuration;
using Dbuild.Registry.Gc;
using Dbuild.Registry.Hosting;
using Dbuild.Registry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild registry serve [--config FILE]</c>: the self-hosted OCI distribution registry; <c>dbuild registry garbage-collect</c>:
/// its offline GC.
/// </summary>
internal static class RegistryCommand
{
    public static Command Create()
    {
        Option<FileInfo?> config = new("--config", "-c")
        {
            Description = "registry:2 style config.yml (see registry-conf/). REGISTRY_* variables override its keys. "
                + "Without it: :5000, storage under <root>/registry.",
        };
        var serve = new Command("serve", "Serve an OCI distribution (v1.1) registry until Ctrl+C or SIGTERM.") { config };
        serve.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult,
            token => ServeAsync(new ServeRequest(parseResult.GetValue(config)?.FullName, GlobalOptions.ResolveRoot(parseResult)), token),
            cancellationToken));
        return new Command("registry", "Run dbuild's registry server.") { serve, CreateGarbageCollect() };
    }

    /// <summary><c>dbuild registry garbage-collect CONFIG [--dry-run] [--delete-untagged]</c>, registry:2's offline GC.</summary>
    private static Command CreateGarbageCollect()
    {
        Argument<FileInfo> config = new("config") { Description = "The registry's config.yml (its storage section is used)." };
        Option<bool> dryRun = new("--dry-run", "-d") { Description = "Only print what would be deleted." };
        Option<bool> deleteUntagged = new("--delete-untagged", "-m") { Description = "Delete manifests no tag reaches (an index's children and referrers of kept manifests stay)." };
        var command = new Command("garbage-collect", "Delete blobs no manifest references, offline: nothing may write to the storage meanwhile.")
        {
            config, dryRun, deleteUntagged,
        };
        command.SetAction(async (parseResult, cancellationToken) => await CommandRunner.RunAsync(parseResult, async token =>
        {
            RegistryOptions options = LoadOptions(parseResult.GetRequiredValue(config).FullName, GlobalOptions.ResolveRoot(parseResult), []);
            IStorageDriver driver = CreateStorageDriver(options);
            await OfflineGarbageCollector.RunAsync(driver, parseResult.GetValue(dryRun), parseResult.GetValue(deleteUntagged), Console.Out, token);
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    private sealed record ServeRequest(string? ConfigPath, string StateRoot);

    private static RegistryOptions LoadOptions(string? configPath, string stateRoot, List<string> warnings)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && entry.Value is string value) { environment[key] = value; }
        }
        try
        {
            return RegistryConfigLoader.Load(configPath, environment, Path.Combine(stateRoot, "registry"), warnings.Add);
        }
        catch (RegistryConfigurationException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    private static async Task<int> ServeAsync(ServeRequest request, CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        RegistryOptions options = LoadOptions(request.ConfigPath, request.StateRoot, warnings);
        if (options.StorageDriver != "azure") { Directory.CreateDirectory(options.StorageRoot); }
        await using WebApplication app = RegistryHost.Create(options, warnings, AddStorageDriver(options));
        // The command line's own signal handling gives an action only a short grace period before Main returns. A
        // foreground thread keeps the process alive until the host has drained in-flight requests (graceful shutdown).
        using var drained = new ManualResetEventSlim();
        var keeper = new Thread(() => drained.Wait()) { IsBackground = false, Name = "registry-shutdown" };
        keeper.Start();
        try
        {
            await app.StartAsync(cancellationToken);
            await app.WaitForShutdownAsync(cancellationToken);
        }
        finally
        {
            drained.Set();
        }
        return ExitCodes.Ok;
    }

    /// <summary>The driver <c>storage</c> names, outside a host (the offline GC).</summary>
    private static IStorageDriver CreateStorageDriver(RegistryOptions options)
    {
        if (options.StorageDriver != "azure") { return new FileSystemDriver(options.StorageRoot); }
        try { return AzureBlobDriver.Create(AzureBlobSettings.FromParameters(options.StorageParameters.AsReadOnly())); }
        catch (RegistryConfigurationException ex) { throw new UsageException(ex.Message); }
    }

    /// <summary>
    /// The composition root picks the storage driver: the Azure one for a <c>storage.azure</c> section (its parameters
    /// validated here, so a bad one is a usage error naming its key), else null for the registry's filesystem default.
    /// </summary>
    private static Action<IServiceCollection>? AddStorageDriver(RegistryOptions options)
    {
        if (options.StorageDriver != "azure") { return null; }
        AzureBlobSettings azure;
        try { azure = AzureBlobSettings.FromParameters(options.StorageParameters.AsReadOnly()); }
        catch (RegistryConfigurationException ex) { throw new UsageException(ex.Message); }
        return services => services.AddAzureBlobStorage(azure);
    }
}
