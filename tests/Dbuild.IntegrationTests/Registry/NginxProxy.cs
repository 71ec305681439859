using System.Globalization;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary>
/// Debian's nginx as a round-robin reverse proxy on 127.0.0.1 in front of several registry replicas, configured as a
/// registry wants it (no body size limit, request and response bodies streamed, not buffered), all its files in a
/// temporary folder. Its access log names the replica (<c>$upstream_addr</c>) that answered each request.
/// </summary>
internal sealed class NginxProxy : IAsyncDisposable
{
    private readonly ListeningProcess _process;
    private readonly string _directory;

    private NginxProxy(ListeningProcess process, string directory, int port) => (_process, _directory, Port) = (process, directory, port);

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public string BaseUrl => $"http://{Host}";

    /// <summary>The access log: one line per request, <c>METHOD URI STATUS UPSTREAM</c>.</summary>
    public string AccessLog => File.Exists(Path.Combine(_directory, "access.log")) ? File.ReadAllText(Path.Combine(_directory, "access.log")) : "";

    public static async Task<NginxProxy> StartAsync(string directory, IEnumerable<int> upstreamPorts, CancellationToken cancellationToken)
    {
        string nginx = Prerequisites.RequireTool("nginx", "nginx-light");
        Directory.CreateDirectory(directory);
        int port = RegistryServer.FreePort();
        string servers = string.Concat(upstreamPorts.Select(p => string.Create(CultureInfo.InvariantCulture, $"    server 127.0.0.1:{p};\n")));
        string temp = string.Concat(((string[])["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]).Select(t => $"  {t}_temp_path {directory}/{t};\n"));
        string config = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            {{(Prerequisites.IsRoot ? "user root;" : "")}}
            worker_processes 2;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections 512; }
            http {
              log_format replica '$request_method $uri $status $upstream_addr';
              access_log {{directory}}/access.log replica;
            {{temp}}
              upstream registry {
            {{servers}}
              }
              server {
                listen 127.0.0.1:{{port}};
                client_max_body_size 0;
                proxy_request_buffering off;
                proxy_buffering off;
                proxy_http_version 1.1;
                location / {
                  proxy_pass http://registry;
                  proxy_set_header Host $http_host;
                  proxy_set_header Connection "";
                  proxy_read_timeout 300s;
                  proxy_send_timeout 300s;
                }
              }
            }
            """, cancellationToken);
        string errorLog = Path.Combine(directory, "error.log");
        ListeningProcess process = await ListeningProcess.StartAsync(nginx, ["-c", config, "-p", directory, "-g", "daemon off;"], port, 100, cancellationToken,
            () => File.Exists(errorLog) ? File.ReadAllText(errorLog) : "");
        return new NginxProxy(process, directory, port);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
