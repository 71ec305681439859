using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace Dbuild.Solver.Store;

/// <summary>
/// buildx's <c>--load</c>: images streamed as a docker-archive (<see cref="DockerArchiveWriter"/>) straight into a docker
/// engine's <c>POST /images/load</c>, over its unix socket (<c>unix:///var/run/docker.sock</c>) or TCP
/// (<c>tcp://host:port</c>, plain HTTP). Nothing is written to disk on the way.
/// </summary>
public sealed class DockerEngineLoader(LocalImages images, string dockerHost)
{
    /// <summary>Checks the engine answers <c>/_ping</c>, then loads; returns the engine's lines (<c>Loaded image: …</c>).</summary>
    /// <exception cref="BuildException">No engine answers at the address, or it refused the archive.</exception>
    public async Task<IReadOnlyList<string>> LoadAsync(IReadOnlyList<SaveItem> items, CancellationToken cancellationToken = default)
    {
        if (dockerHost.StartsWith("unix://", StringComparison.Ordinal) && !File.Exists(dockerHost["unix://".Length..]))
        {
            throw new BuildException($"--load: no docker daemon at {dockerHost}: the socket does not exist. Start one or point DOCKER_HOST at it.");
        }
        (HttpMessageHandler handler, Uri baseAddress) = Connect(dockerHost);
        using var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            using HttpResponseMessage ping = await http.GetAsync(new Uri("/_ping", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            ping.EnsureSuccessStatusCode();
        }
        catch (HttpRequestException ex)
        {
            throw new BuildException($"--load: no docker daemon answers at {dockerHost} ({ex.Message}); start one or point DOCKER_HOST at it.", ex);
        }
        using var content = new ArchiveContent(new DockerArchiveWriter(images), items);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        using HttpResponseMessage response = await http.PostAsync(new Uri("/images/load", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new BuildException($"--load: the docker daemon at {dockerHost} refused the image: {(int)response.StatusCode} {Message(body)}");
        }
        var lines = new List<string>();
        foreach (string line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using JsonDocument message = JsonDocument.Parse(line);
            if (message.RootElement.TryGetProperty("error", out JsonElement error))
            {
                throw new BuildException($"--load: the docker daemon at {dockerHost} failed to load the image: {error.GetString()}");
            }
            if (message.RootElement.TryGetProperty("stream", out JsonElement stream) && stream.GetString()?.Trim() is { Length: > 0 } text) { lines.Add(text); }
        }
        return lines;
    }

    private static (HttpMessageHandler Handler, Uri BaseAddress) Connect(string host)
    {
        if (host.StartsWith("unix://", StringComparison.Ordinal))
        {
            string path = host["unix://".Length..];
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            };
            return (handler, new Uri("http://localhost"));
        }
        if (host.StartsWith("tcp://", StringComparison.Ordinal) || host.StartsWith("http://", StringComparison.Ordinal))
        {
            return (new SocketsHttpHandler(), new Uri("http://" + host[(host.IndexOf("://", StringComparison.Ordinal) + 3)..]));
        }
        throw new BuildException($"--load: DOCKER_HOST '{host}' is not a unix:// or tcp:// address.");
    }

    private static string Message(string body)
    {
        try
        {
            using JsonDocument json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("message", out JsonElement message) ? message.GetString() ?? body : body;
        }
        catch (JsonException) { return body.Trim(); }
    }

    /// <summary>The archive written into the request as it is sent (chunked: its length is not known beforehand).</summary>
    private sealed class ArchiveContent(DockerArchiveWriter writer, IReadOnlyList<SaveItem> items) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => writer.WriteAsync(items, stream, CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            writer.WriteAsync(items, stream, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
