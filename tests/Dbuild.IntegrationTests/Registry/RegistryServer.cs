using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// A real registry process on 127.0.0.1 and a free port: the built <c>dbuild registry serve</c> or Debian's
/// <c>docker-registry</c> (distribution 2.8.2), both configured with a registry:2 config.yml.
/// </summary>
internal sealed class RegistryServer : IAsyncDisposable
{
    public const string DockerRegistry = "/usr/bin/docker-registry";
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RegistryServer(Process process, int port, string root, bool tls)
    {
        _process = process;
        Port = port;
        StorageRoot = root;
        Scheme = tls ? "https" : "http";
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_output) { _output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_output) { _output.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public string Scheme { get; }

    public string BaseUrl => $"{Scheme}://{Host}";

    public string StorageRoot { get; }

    public int ProcessId => _process.Id;

    public string Output { get { lock (_output) { return _output.ToString(); } } }

    /// <summary>The built dbuild CLI (see <see cref="DbuildCli.DllPath"/>).</summary>
    public static string DbuildDll => DbuildCli.DllPath;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A registry:2 config.yml that both programs read; <paramref name="extra"/> is appended under the top level.</summary>
    public static string WriteConfig(string directory, string root, int port, string extraHttp = "", string extra = "")
    {
        string path = Path.Combine(directory, $"config-{port}.yml");
        File.WriteAllText(path, $"""
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: {root}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
              secret: integration-test-secret
            {extraHttp}
            {extra}
            """);
        return path;
    }

    public static Task<RegistryServer> StartDbuildAsync(string configPath, int port, string root, CancellationToken cancellationToken, bool tls = false) =>
        StartAsync(FindDotnet(), [DbuildDll, "registry", "serve", "--config", configPath], port, root, tls, cancellationToken);

    public static Task<RegistryServer> StartRegistry2Async(string configPath, int port, string root, CancellationToken cancellationToken)
    {
        Prerequisites.RequireTool(DockerRegistry, "docker-registry");
        return StartAsync(DockerRegistry, ["serve", configPath], port, root, false, cancellationToken);
    }

    /// <summary>Starts dbuild over <paramref name="root"/> with a default config on a free port.</summary>
    public static async Task<RegistryServer> StartDbuildAsync(string workDirectory, string root, CancellationToken cancellationToken, string extraHttp = "", string extra = "")
    {
        int port = FreePort();
        string config = WriteConfig(workDirectory, root, port, extraHttp, extra);
        return await StartDbuildAsync(config, port, root, cancellationToken, extraHttp.Contains("tls:", StringComparison.Ordinal));
    }

    public static async Task<RegistryServer> StartRegistry2Async(string workDirectory, string root, CancellationToken cancellationToken)
    {
        int port = FreePort();
        return await StartRegistry2Async(WriteConfig(workDirectory, root, port), port, root, cancellationToken);
    }

    private static string FindDotnet()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (host is not null && File.Exists(host)) { return host; }
        return Prerequisites.FindTool("dotnet") ?? throw new FileNotFoundException("dotnet is not on PATH.");
    }

    /// <summary>Starts dbuild with arbitrary arguments and environment (e.g. no config file at all).</summary>
    public static Task<RegistryServer> StartDbuildAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, int port, string root,
        CancellationToken cancellationToken) =>
        StartAsync(FindDotnet(), [DbuildDll, .. arguments], port, root, false, cancellationToken, environment);

    private static async Task<RegistryServer> StartAsync(string fileName, IReadOnlyList<string> arguments, int port, string root, bool tls,
        CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) { startInfo.ArgumentList.Add(argument); }
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>()) { startInfo.Environment[key] = value; }
        var server = new RegistryServer(Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}."), port, root, tls);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        for (int attempt = 0; attempt < 150; attempt++)
        {
            if (server._process.HasExited) { break; }
            try
            {
                using HttpResponseMessage response = await client.GetAsync($"{server.BaseUrl}/v2/", cancellationToken);
                return server; // any answer (200 or 401) means it is serving
            }
            catch (HttpRequestException ex) when (ex.InnerException is System.Security.Authentication.AuthenticationException or IOException)
            {
                return server; // listening, but the TLS handshake wants a client certificate the probe does not have
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested) { }
            await Task.Delay(200, cancellationToken);
        }
        string output = server.Output;
        await server.DisposeAsync();
        throw new InvalidOperationException($"{fileName} did not start serving on port {port}.\n{output}");
    }

    /// <summary>Sends SIGTERM and waits (bounded) for a clean exit; returns the exit code.</summary>
    public async Task<int> StopAsync(CancellationToken cancellationToken)
    {
        if (!_process.HasExited)
        {
            await ProcessRunner.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(45));
            try { await _process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); throw; }
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(50));
                await StopAsync(timeout.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or TimeoutException)
        {
            if (!_process.HasExited) { _process.Kill(entireProcessTree: true); }
        }
        _process.Dispose();
    }
}
