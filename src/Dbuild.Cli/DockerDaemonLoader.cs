using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace Dbuild.Cli;

/// <summary>
/// buildx's <c>--load</c>: a docker archive handed to the docker daemon at <c>DOCKER_HOST</c> (default
/// <c>unix:///var/run/docker.sock</c>; <c>tcp://</c> too) through its API's <c>POST /images/load</c>, streamed from disk.
/// </summary>
internal static class DockerDaemonLoader
{
    private const string DefaultHost = "unix:///var/run/docker.sock";

    public static async Task LoadAsync(string archive, CancellationToken cancellationToken)
    {
        string host = Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } configured ? configured : DefaultHost;
        using HttpClient http = Connect(host, out Uri baseUri);
        await using FileStream tar = File.OpenRead(archive);
        using var content = new StreamContent(tar, 81920);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsync(new Uri(baseUri, "images/load?quiet=1"), content, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new HttpRequestException($"--load: cannot reach the docker daemon at {host}: {ex.Message}", ex);
        }
        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"--load: the docker daemon at {host} refused the image: {(int)response.StatusCode} {Message(body)}");
            }
            // The load streams JSON messages; a failure mid-way arrives as {"errorDetail":…} with status 200.
            foreach (string line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using JsonDocument message = JsonDocument.Parse(line);
                if (message.RootElement.TryGetProperty("error", out JsonElement error))
                {
                    throw new HttpRequestException($"--load: the docker daemon at {host} refused the image: {error.GetString()}");
                }
            }
        }
    }

    private static HttpClient Connect(string host, out Uri baseUri)
    {
        if (host.StartsWith("unix://", StringComparison.Ordinal))
        {
            string socket = host["unix://".Length..];
            if (!File.Exists(socket)) { throw new HttpRequestException($"--load: cannot reach the docker daemon at {host}: {socket} does not exist (is dockerd running?)"); }
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, token) =>
                {
                    var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), token);
                        return new NetworkStream(client, ownsSocket: true);
                    }
                    catch
                    {
                        client.Dispose();
                        throw;
                    }
                },
            };
            baseUri = new Uri("http://docker/v1.41/");
            return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        }
        if (host.StartsWith("tcp://", StringComparison.Ordinal))
        {
            baseUri = new Uri($"http://{host["tcp://".Length..].TrimEnd('/')}/v1.41/");
            return new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        }
        throw new UsageException($"--load: DOCKER_HOST '{host}' is not unix:// or tcp://.");
    }

    private static string Message(string body)
    {
        try
        {
            using JsonDocument json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("message", out JsonElement m) ? m.GetString() ?? body : body;
        }
        catch (JsonException)
        {
            return body.Trim();
        }
    }
}
