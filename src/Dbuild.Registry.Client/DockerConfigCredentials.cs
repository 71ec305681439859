using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Oci;

namespace Dbuild.Registry.Client;

/// <summary>
/// Credentials in Docker's <c>config.json</c>: <c>auths</c> entries (base64 <c>user:password</c> in <c>auth</c>, or
/// <c>identitytoken</c>), and the <c>credsStore</c> / <c>credHelpers</c> programs (<c>docker-credential-&lt;name&gt;</c>).
/// Reads what <c>docker login</c> wrote and writes what <c>docker</c> can read back.
/// </summary>
/// <remarks>https://docs.docker.com/reference/cli/docker/login/#credential-stores</remarks>
public sealed class DockerConfigCredentials : IRegistryCredentialSource
{
    /// <summary>The key <c>docker login</c> uses for Docker Hub.</summary>
    public const string DockerHubKey = "https://index.docker.io/v1/";

    private readonly string _path;
    private readonly string? _helperDirectory;

    /// <summary>Uses the config file at <paramref name="path"/> (usually <c>$DOCKER_CONFIG/config.json</c> or <c>~/.docker/config.json</c>).</summary>
    /// <param name="path">The config file; it need not exist.</param>
    /// <param name="helperDirectory">Where to find <c>docker-credential-*</c>; null searches PATH.</param>
    public DockerConfigCredentials(string path, string? helperDirectory = null) => (_path, _helperDirectory) = (path, helperDirectory);

    /// <summary>The config file this instance reads and writes.</summary>
    public string Path => _path;

    /// <summary>The server name a registry host is stored under: Docker Hub's legacy URL, otherwise the host itself.</summary>
    public static string ServerKey(string registry) => IsDockerHub(registry) ? DockerHubKey : registry;

    /// <inheritdoc />
    public async Task<RegistryCredential> GetAsync(string registry, CancellationToken cancellationToken = default)
    {
        JsonObject config = await ReadAsync(cancellationToken).ConfigureAwait(false);
        string? helper = HelperFor(config, registry);
        if (helper is not null)
        {
            return await GetFromHelperAsync(helper, ServerKey(registry), cancellationToken).ConfigureAwait(false);
        }
        if (config["auths"] is JsonObject auths && FindEntry(auths, registry) is JsonObject entry)
        {
            return FromAuthEntry(entry, registry);
        }
        return RegistryCredential.Anonymous;
    }

    /// <summary>True when a credential helper (<c>credHelpers</c> or <c>credsStore</c>) keeps this registry's secret, not config.json itself.</summary>
    public async Task<bool> UsesHelperAsync(string registry, CancellationToken cancellationToken = default) =>
        HelperFor(await ReadAsync(cancellationToken).ConfigureAwait(false), registry) is not null;

    /// <summary>Stores a credential the way <c>docker login</c> does: in the configured helper, else base64 in <c>auths</c>.</summary>
    public async Task StoreAsync(string registry, RegistryCredential credential, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credential);
        JsonObject config = await ReadAsync(cancellationToken).ConfigureAwait(false);
        string key = ServerKey(registry);
        JsonObject auths = config["auths"] as JsonObject ?? [];
        config["auths"] = auths;
        RemoveEntries(auths, registry);
        string? helper = HelperFor(config, registry);
        if (helper is not null)
        {
            string secret = credential.IdentityToken ?? credential.Password ?? "";
            string user = credential.IdentityToken is not null ? "<token>" : credential.Username ?? "";
            string payload = JsonSerializer.Serialize(new JsonObject { ["ServerURL"] = key, ["Username"] = user, ["Secret"] = secret });
            await RunHelperAsync(helper, "store", payload, cancellationToken).ConfigureAwait(false);
            auths[key] = new JsonObject(); // docker keeps an empty entry so 'docker info' lists the login
        }
        else
        {
            var entry = new JsonObject
            {
                ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")),
            };
            if (credential.IdentityToken is not null) { entry["identitytoken"] = credential.IdentityToken; }
            auths[key] = entry;
        }
        await WriteAsync(config, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a registry's credential (helper and <c>auths</c>); returns false when there was none.</summary>
    public async Task<bool> EraseAsync(string registry, CancellationToken cancellationToken = default)
    {
        JsonObject config = await ReadAsync(cancellationToken).ConfigureAwait(false);
        bool removed = false;
        string? helper = HelperFor(config, registry);
        if (helper is not null)
        {
            removed = await RunHelperAsync(helper, "erase", ServerKey(registry), cancellationToken).ConfigureAwait(false) is not null;
        }
        if (config["auths"] is JsonObject auths) { removed |= RemoveEntries(auths, registry); }
        if (removed) { await WriteAsync(config, cancellationToken).ConfigureAwait(false); }
        return removed;
    }

    internal static bool IsDockerHub(string registry) =>
        registry is "docker.io" or "index.docker.io" or "registry-1.docker.io" or DockerHubKey or "registry.hub.docker.com";

    /// <summary>Reduces a stored key (<c>https://host/v1/</c>, <c>host</c>) to its host, as docker's lookup does.</summary>
    internal static string HostOfKey(string key)
    {
        string host = key;
        int scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) { host = host[(scheme + 3)..]; }
        int slash = host.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0) { host = host[..slash]; }
        return IsDockerHub(host) ? "docker.io" : host;
    }

    private static JsonObject? FindEntry(JsonObject auths, string registry)
    {
        string wanted = IsDockerHub(registry) ? "docker.io" : registry;
        if (auths[ServerKey(registry)] is JsonObject exact) { return exact; }
        foreach ((string key, JsonNode? value) in auths)
        {
            if (value is JsonObject entry && string.Equals(HostOfKey(key), wanted, StringComparison.OrdinalIgnoreCase)) { return entry; }
        }
        return null;
    }

    private static bool RemoveEntries(JsonObject auths, string registry)
    {
        string wanted = IsDockerHub(registry) ? "docker.io" : registry;
        List<string> keys = [.. auths.Where(p => string.Equals(HostOfKey(p.Key), wanted, StringComparison.OrdinalIgnoreCase)).Select(p => p.Key)];
        foreach (string key in keys) { auths.Remove(key); }
        return keys.Count > 0;
    }

    private static RegistryCredential FromAuthEntry(JsonObject entry, string registry)
    {
        string? identityToken = entry["identitytoken"]?.GetValue<string>();
        string? username = entry["username"]?.GetValue<string>();
        string? password = entry["password"]?.GetValue<string>();
        if (entry["auth"]?.GetValue<string>() is { Length: > 0 } auth)
        {
            string decoded;
            try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth)); }
            catch (FormatException ex)
            {
                throw new InvalidDataException($"The 'auth' entry for {registry} in the Docker config is not base64. Run 'dbuild login {registry}' again.", ex);
            }
            int colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                throw new InvalidDataException($"The 'auth' entry for {registry} in the Docker config is not 'user:password'. Run 'dbuild login {registry}' again.");
            }
            (username, password) = (decoded[..colon], decoded[(colon + 1)..]);
        }
        return new RegistryCredential(username, password, string.IsNullOrEmpty(identityToken) ? null : identityToken);
    }

    private static string? HelperFor(JsonObject config, string registry)
    {
        if (config["credHelpers"] is JsonObject helpers)
        {
            foreach ((string key, JsonNode? value) in helpers)
            {
                if (string.Equals(HostOfKey(key), IsDockerHub(registry) ? "docker.io" : registry, StringComparison.OrdinalIgnoreCase) &&
                    value?.GetValue<string>() is { Length: > 0 } name)
                {
                    return name;
                }
            }
        }
        return config["credsStore"]?.GetValue<string>() is { Length: > 0 } store ? store : null;
    }

    private async Task<RegistryCredential> GetFromHelperAsync(string helper, string serverKey, CancellationToken cancellationToken)
    {
        string? output = await RunHelperAsync(helper, "get", serverKey, cancellationToken).ConfigureAwait(false);
        if (output is null) { return RegistryCredential.Anonymous; }
        using JsonDocument document = JsonDocument.Parse(output);
        string? user = document.RootElement.TryGetProperty("Username", out JsonElement u) ? u.GetString() : null;
        string? secret = document.RootElement.TryGetProperty("Secret", out JsonElement s) ? s.GetString() : null;
        return user == "<token>" ? new RegistryCredential(null, null, secret) : new RegistryCredential(user, secret);
    }

    /// <summary>Runs <c>docker-credential-NAME ACTION</c> with <paramref name="input"/> on stdin; null when it says "not found".</summary>
    private async Task<string?> RunHelperAsync(string helper, string action, string input, CancellationToken cancellationToken)
    {
        string program = "docker-credential-" + helper;
        string fileName = _helperDirectory is null ? program : System.IO.Path.Combine(_helperDirectory, program);
        var startInfo = new ProcessStartInfo(fileName) { ArgumentList = { action } };
        CapturedProcess run;
        try { run = await ProcessCapture.RunAsync(startInfo, input, cancellationToken).ConfigureAwait(false); }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException(
                $"The Docker config names credential helper '{helper}', but '{program}' could not be run ({ex.Message}). Install it or remove it from {_path}.", ex);
        }
        if (run.ExitCode == 0) { return run.StandardOutput; }
        string message = (run.StandardOutput + run.StandardError).Trim();
        if (message.Contains("credentials not found", StringComparison.OrdinalIgnoreCase)) { return null; }
        throw new InvalidOperationException($"'{program} {action}' failed with exit code {run.ExitCode}: {message}");
    }

    private async Task<JsonObject> ReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(_path)) { return []; }
        FileStream stream = File.OpenRead(_path);
        await using (stream.ConfigureAwait(false))
        {
            if (stream.Length == 0) { return []; }
            JsonNode? node = await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            return node as JsonObject ?? throw new InvalidDataException($"{_path} is not a JSON object.");
        }
    }

    private async Task WriteAsync(JsonObject config, CancellationToken cancellationToken)
    {
        string? directory = System.IO.Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(directory)) { Directory.CreateDirectory(directory); }
        string temp = _path + ".tmp-" + Environment.ProcessId;
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) { options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; }
        FileStream stream = new(temp, options);
        await using (stream.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(stream, config, IndentedOptions, cancellationToken).ConfigureAwait(false);
        }
        File.Move(temp, _path, overwrite: true);
    }

    private static readonly JsonSerializerOptions IndentedOptions = new() { WriteIndented = true, IndentCharacter = '\t', IndentSize = 1 };
}
