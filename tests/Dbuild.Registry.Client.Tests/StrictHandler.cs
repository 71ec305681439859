using System.Net;

namespace Dbuild.Registry.Client.Tests;

/// <summary>
/// A strict fake: each expected request is (method, path-and-query prefix, responder), answered in order of
/// registration by the first unused match; anything unexpected fails the test.
/// </summary>
internal sealed class StrictHandler : HttpMessageHandler
{
    private readonly List<(HttpMethod Method, string Path, Func<HttpRequestMessage, byte[]?, HttpResponseMessage> Respond, bool Repeat)> _routes = [];
    private readonly List<bool> _used = [];

    public List<(HttpMethod Method, string PathAndQuery, string? Authorization, byte[]? Body)> Requests { get; } = [];

    public StrictHandler On(HttpMethod method, string path, Func<HttpRequestMessage, byte[]?, HttpResponseMessage> respond, bool repeat = false)
    {
        lock (_routes)
        {
            _routes.Add((method, path, respond, repeat));
            _used.Add(false);
        }
        return this;
    }

    public StrictHandler On(HttpMethod method, string path, HttpStatusCode status, bool repeat = false) =>
        On(method, path, (_, _) => new HttpResponseMessage(status), repeat);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[]? body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        string pathAndQuery = request.RequestUri!.PathAndQuery;
        lock (_routes)
        {
            Requests.Add((request.Method, pathAndQuery, request.Headers.Authorization?.ToString(), body));
            for (int i = 0; i < _routes.Count; i++)
            {
                var route = _routes[i];
                if ((_used[i] && !route.Repeat) || route.Method != request.Method || !pathAndQuery.StartsWith(route.Path, StringComparison.Ordinal)) { continue; }
                _used[i] = true;
                HttpResponseMessage response = route.Respond(request, body);
                response.RequestMessage = request;
                return response;
            }
        }
        Assert.Fail($"Unexpected request {request.Method} {request.RequestUri}");
        throw new InvalidOperationException();
    }

    public static HttpResponseMessage Unauthorized(string challenge)
    {
        var response = new HttpResponseMessage(HttpStatusCode.Unauthorized)
        {
            Content = new StringContent("""{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"""),
        };
        response.Headers.TryAddWithoutValidation("WWW-Authenticate", challenge);
        return response;
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK, string? mediaType = null)
    {
        var content = new StringContent(json);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType ?? "application/json");
        return new HttpResponseMessage(status) { Content = content };
    }

    public static HttpResponseMessage Accepted(string location)
    {
        var response = new HttpResponseMessage(HttpStatusCode.Accepted) { Content = new ByteArrayContent([]) };
        response.Headers.Location = new Uri(location, UriKind.RelativeOrAbsolute);
        return response;
    }
}
