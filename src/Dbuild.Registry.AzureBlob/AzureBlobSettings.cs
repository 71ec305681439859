using System.Globalization;
using Azure.Core;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Dbuild.Registry.Configuration;

namespace Dbuild.Registry.AzureBlob;

/// <summary>How the driver authenticates: registry:2's <c>storage.azure.credentials.type</c>.</summary>
public enum AzureCredentialsType
{
    SharedKey,
    ClientSecret,
    DefaultCredentials,
}

/// <summary>
/// registry:2's <c>storage.azure.*</c> parameters, validated: <c>accountname</c>, <c>accountkey</c>, <c>container</c>,
/// <c>rootdirectory</c>, <c>realm</c>, <c>serviceurl</c>, <c>credentials.type</c> (<c>shared_key</c>, <c>client_secret</c>
/// with <c>clientid</c>/<c>tenantid</c>/<c>secret</c>, <c>default_credentials</c>), <c>max_retries</c>, <c>retry_delay</c>.
/// Errors are <see cref="RegistryConfigurationException"/>s naming the key.
/// </summary>
public sealed record AzureBlobSettings
{
    private const string Prefix = "storage.azure.";

    public required string AccountName { get; init; }
    public string? AccountKey { get; init; }
    public required string Container { get; init; }

    /// <summary>Blob-name prefix without leading or trailing <c>/</c>; empty for the container's root.</summary>
    public string RootDirectory { get; init; } = "";
    public required Uri ServiceUrl { get; init; }
    public AzureCredentialsType CredentialsType { get; init; }
    public string? ClientId { get; init; }
    public string? TenantId { get; init; }
    public string? ClientSecret { get; init; }
    public int MaxRetries { get; init; } = 5;
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Reads the parameters (keys relative to <c>storage.azure.</c>, e.g. <c>credentials.type</c>).</summary>
    public static AzureBlobSettings FromParameters(IReadOnlyDictionary<string, string> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        string? Get(string key) => parameters.TryGetValue(key, out string? value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
        string Required(string key, string why) => Get(key) ?? throw new RegistryConfigurationException(Prefix + key, why);

        string account = Required("accountname", "is required (the storage account's name)");
        string container = Required("container", "is required (the blob container holding the registry)");
        if (container.Length is < 3 or > 63 || container.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            throw new RegistryConfigurationException(Prefix + "container", $"'{container}' is not a container name (3-63 lowercase letters, digits and '-')");
        }
        AzureCredentialsType type = Get("credentials.type")?.ToLowerInvariant() switch
        {
            null or "shared_key" => AzureCredentialsType.SharedKey,
            "client_secret" => AzureCredentialsType.ClientSecret,
            "default_credentials" => AzureCredentialsType.DefaultCredentials,
            var other => throw new RegistryConfigurationException(Prefix + "credentials.type", $"'{other}' is not shared_key, client_secret or default_credentials"),
        };
        string? key = Get("accountkey");
        if (type == AzureCredentialsType.SharedKey)
        {
            key ??= Required("accountkey", "is required for shared_key credentials (the account's base64 access key)");
            if (!IsBase64(key)) { throw new RegistryConfigurationException(Prefix + "accountkey", "is not base64 (copy the key as the portal shows it)"); }
        }
        string? serviceUrl = Get("serviceurl");
        Uri service;
        if (serviceUrl is not null)
        {
            if (!Uri.TryCreate(serviceUrl.TrimEnd('/'), UriKind.Absolute, out Uri? parsed) || parsed.Scheme is not ("http" or "https"))
            {
                throw new RegistryConfigurationException(Prefix + "serviceurl", $"'{serviceUrl}' is not an http(s) URL");
            }
            service = parsed;
        }
        else
        {
            string realm = Get("realm") ?? "core.windows.net";
            if (!Uri.TryCreate($"https://{account}.blob.{realm}", UriKind.Absolute, out Uri? built))
            {
                throw new RegistryConfigurationException(Prefix + "realm", $"'{realm}' does not make a service URL with account '{account}'");
            }
            service = built;
        }
        return new AzureBlobSettings
        {
            AccountName = account,
            AccountKey = key,
            Container = container,
            RootDirectory = (Get("rootdirectory") ?? "").Trim('/'),
            ServiceUrl = service,
            CredentialsType = type,
            ClientId = type == AzureCredentialsType.ClientSecret ? Required("credentials.clientid", "is required for client_secret credentials") : Get("credentials.clientid"),
            TenantId = type == AzureCredentialsType.ClientSecret ? Required("credentials.tenantid", "is required for client_secret credentials") : Get("credentials.tenantid"),
            ClientSecret = type == AzureCredentialsType.ClientSecret ? Required("credentials.secret", "is required for client_secret credentials") : null,
            MaxRetries = Get("max_retries") is { } retries ? ParseRetries(retries) : 5,
            RetryDelay = Get("retry_delay") is { } delay ? ParseDelay(delay) : TimeSpan.FromMilliseconds(100),
        };
    }

    /// <summary>The service client: shared key, a service principal's secret, or the default chain (managed identity, …).</summary>
    public BlobServiceClient CreateServiceClient()
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = MaxRetries;
        options.Retry.Delay = RetryDelay;
        options.Retry.MaxDelay = TimeSpan.FromTicks(Math.Max(RetryDelay.Ticks * 32, TimeSpan.FromSeconds(1).Ticks));
        options.Retry.Mode = RetryMode.Exponential;
        return CredentialsType switch
        {
            AzureCredentialsType.SharedKey => new BlobServiceClient(ServiceUrl, new StorageSharedKeyCredential(AccountName, AccountKey), options),
            AzureCredentialsType.ClientSecret => new BlobServiceClient(ServiceUrl, new ClientSecretCredential(TenantId, ClientId, ClientSecret), options),
            _ => new BlobServiceClient(ServiceUrl, ClientId is null
                ? new DefaultAzureCredential()
                : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = ClientId }), options),
        };
    }

    private static bool IsBase64(string value)
    {
        Span<byte> buffer = stackalloc byte[Math.Min(value.Length, 512)];
        return value.Length <= 512 && Convert.TryFromBase64String(value, buffer, out _);
    }

    private static int ParseRetries(string value) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int retries) && retries >= -1
            ? Math.Max(retries, 0) // registry:2's -1 means "no retries"
            : throw new RegistryConfigurationException(Prefix + "max_retries", $"'{value}' is not a number of retries (0 or more; -1 for none)");

    private static TimeSpan ParseDelay(string value) =>
        GoDuration.TryParse(value, out TimeSpan delay) && delay > TimeSpan.Zero
            ? delay
            : throw new RegistryConfigurationException(Prefix + "retry_delay", $"'{value}' is not a positive duration such as 100ms or 2s");
}
