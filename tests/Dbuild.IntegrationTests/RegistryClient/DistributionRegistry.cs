using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.RegistryClient;

/// <summary>
/// Debian's registry:2 (<c>/usr/bin/docker-registry serve CONFIG</c>) on 127.0.0.1 with a free port and a temp storage
/// root, optionally behind htpasswd basic auth or token auth from a <see cref="TokenServer"/>, optionally serving a copy of
/// an existing storage root (<c>storageSeed</c>, e.g. the foreign bases testdata/images/make-foreign-bases.sh made).
/// Stopped (by its own process id) on dispose.
/// </summary>
internal sealed class DistributionRegistry : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;
    private readonly ConcurrentQueue<string> _output;

    private DistributionRegistry(Process process, TempDirectory directory, int port, ConcurrentQueue<string> output) =>
        (_process, _directory, Port, _output) = (process, directory, port, output);

    public int Port { get; }

    /// <summary>
    /// What the registry printed so far: its access log (one Apache-style line per request, e.g.
    /// <c>"POST /v2/a/blobs/uploads/?from=b&amp;mount=sha256%3A… HTTP/1.1" 201</c>) and errors.
    /// </summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <summary>The registry's storage root (<c>rootdirectory</c>), to inspect or damage what it stores.</summary>
    public string StorageRoot => _directory.Combine("data");

    /// <summary><c>127.0.0.1:PORT</c>, the registry part of references.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public static async Task<DistributionRegistry> StartAsync(CancellationToken cancellationToken, (string User, string Password)? basicAuth = null,
        TokenServer? tokenAuth = null, string? storageSeed = null)
    {
        string binary = Prerequisites.RequireTool("docker-registry", "docker-registry");
        var directory = new TempDirectory("dbuild-registry2-");
        if (storageSeed is not null)
        {
            (await ProcessRunner.RunAsync("cp", ["-a", storageSeed, directory.Combine("data")], cancellationToken)).EnsureSuccess();
        }
        int port = FreePort();
        string auth = "";
        if (basicAuth is { } credentials)
        {
            string htpasswd = Prerequisites.RequireTool("htpasswd", "apache2-utils");
            ProcessResult hashed = (await ProcessRunner.RunAsync(htpasswd, ["-Bbn", credentials.User, credentials.Password], cancellationToken)).EnsureSuccess();
            await File.WriteAllTextAsync(directory.Combine("htpasswd"), hashed.StandardOutput.Trim() + "\n", cancellationToken);
            auth = $"auth:\n  htpasswd:\n    realm: test\n    path: {directory.Combine("htpasswd")}\n";
        }
        else if (tokenAuth is not null)
        {
            auth = $"auth:\n  token:\n    realm: {tokenAuth.Realm}\n    service: {TokenServer.Service}\n    issuer: {TokenServer.Issuer}\n" +
                $"    rootcertbundle: {tokenAuth.RootCertBundle}\n";
        }
        string config = $"""
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: {directory.Combine("data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            {auth.Replace("\n", "\n            ", StringComparison.Ordinal)}
            """;
        await File.WriteAllTextAsync(directory.Combine("config.yml"), config, cancellationToken);
        var startInfo = new ProcessStartInfo(binary) { ArgumentList = { "serve", directory.Combine("config.yml") }, RedirectStandardError = true, RedirectStandardOutput = true };
        Process process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start docker-registry.");
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) { output.Enqueue(line); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { output.Enqueue(line); } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        using var http = new HttpClient();
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/v2/"), cancellationToken);
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized) { return new DistributionRegistry(process, directory, port, output); }
            }
            catch (HttpRequestException) { /* not listening yet */ }
            await Task.Delay(100, cancellationToken);
        }
        process.Kill();
        throw new InvalidOperationException($"docker-registry did not listen on 127.0.0.1:{port} within 10 s.");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) { _process.Kill(); }
            await _process.WaitForExitAsync(CancellationToken.None);
        }
        catch (InvalidOperationException) { /* already gone */ }
        _process.Dispose();
        _directory.Dispose();
    }
}
