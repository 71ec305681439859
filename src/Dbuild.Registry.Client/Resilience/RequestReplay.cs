namespace Dbuild.Registry.Client.Resilience;

/// <summary>
/// Which requests may be sent again after a failure: idempotent methods only (GET, HEAD, PUT, DELETE, OPTIONS; never
/// POST or PATCH, which start or extend an upload), and only with a body that is held in memory. A streamed body (a
/// blob's PUT) is never replayed: a registry may already have appended part of it to the upload.
/// </summary>
internal static class RequestReplay
{
    public static bool CanReplay(HttpRequestMessage request) =>
        IsIdempotent(request.Method) && request.Content is null or ByteArrayContent or ReadOnlyMemoryContent;

    public static bool IsIdempotent(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Put || method == HttpMethod.Delete || method == HttpMethod.Options;
}
