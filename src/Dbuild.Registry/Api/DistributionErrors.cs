using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Dbuild.Registry.Api;

/// <summary>
/// The one place where failures become the spec's error body <c>{"errors":[{"code","message","detail"}]}</c>.
/// </summary>
/// <remarks>https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#error-codes</remarks>
internal static class DistributionErrors
{
    public const string BlobUnknown = "BLOB_UNKNOWN";
    public const string BlobUploadInvalid = "BLOB_UPLOAD_INVALID";
    public const string BlobUploadUnknown = "BLOB_UPLOAD_UNKNOWN";
    public const string DigestInvalid = "DIGEST_INVALID";
    public const string ManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN";
    public const string ManifestInvalid = "MANIFEST_INVALID";
    public const string ManifestUnknown = "MANIFEST_UNKNOWN";
    public const string NameInvalid = "NAME_INVALID";
    public const string NameUnknown = "NAME_UNKNOWN";
    public const string SizeInvalid = "SIZE_INVALID";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Denied = "DENIED";
    public const string Unsupported = "UNSUPPORTED";
    public const string TooManyRequests = "TOOMANYREQUESTS";
    /// <summary>registry:2's code for a bad Content-Range or Range.</summary>
    public const string RangeInvalid = "RANGE_INVALID";
    /// <summary>registry:2's code for a bad <c>n</c> in tags/list and _catalog.</summary>
    public const string PaginationNumberInvalid = "PAGINATION_NUMBER_INVALID";
    /// <summary>registry:2's code for a malformed tag.</summary>
    public const string TagInvalid = "TAG_INVALID";

    public static DistributionException BlobUnknownError(string digest) => new(BlobUnknown, "blob unknown to registry", 404, new { digest });
    public static DistributionException BlobUploadUnknownError(string id) => new(BlobUploadUnknown, "blob upload unknown to registry", 404, new { id });
    public static DistributionException BlobUploadInvalidError(string why) => new(BlobUploadInvalid, $"blob upload invalid: {why}", 400);
    public static DistributionException DigestInvalidError(string why) => new(DigestInvalid, $"provided digest did not match uploaded content: {why}", 400);
    public static DistributionException ManifestBlobUnknownError(string digest) =>
        new(ManifestBlobUnknown, "manifest references a manifest or blob unknown to registry", 400, new { digest });
    public static DistributionException ManifestInvalidError(string why) => new(ManifestInvalid, $"manifest invalid: {why}", 400);
    public static DistributionException ManifestUnknownError(string reference) => new(ManifestUnknown, "manifest unknown to registry", 404, new { reference });
    public static DistributionException ManifestTooLargeError(int max) => new(SizeInvalid, $"manifest exceeds the limit of {max} bytes", 413, new { max });
    public static DistributionException NameInvalidError(string name) => new(NameInvalid, "invalid repository name", 400, new { name });
    public static DistributionException NameUnknownError(string name) => new(NameUnknown, "repository name not known to registry", 404, new { name });
    public static DistributionException SizeInvalidError(string why) => new(SizeInvalid, $"provided length did not match content length: {why}", 400);
    public static DistributionException RangeInvalidError(string why) => new(RangeInvalid, $"invalid content range: {why}", 416);
    public static DistributionException PaginationInvalidError(string value) => new(PaginationNumberInvalid, "invalid number of results requested", 400, new { n = value });
    public static DistributionException TagInvalidError(string tag) => new(TagInvalid, "manifest tag did not match URI", 400, new { tag });
    public static DistributionException UnsupportedError(string why, int statusCode = 405) => new(Unsupported, $"The operation is unsupported: {why}", statusCode);
    public static DistributionException NotFoundError(string path) => new(NameUnknown, "no such distribution endpoint", 404, new { path });
    public static DistributionException UnauthorizedError() => new(Unauthorized, "authentication required", 401);

    /// <summary>registry:2's answer when a pull-through cache's upstream fails and nothing is cached: 500 UNKNOWN.</summary>
    public static DistributionException UpstreamError(string why) => new("UNKNOWN", $"unknown error: {why}", 500);

    /// <summary>Writes the error body with an exact Content-Length (HEAD responses get the headers only).</summary>
    public static Task WriteAsync(HttpContext context, DistributionException error)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(error);
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            errors = new[] { new { code = error.Code, message = error.Message, detail = error.Detail } },
        });
        HttpResponse response = context.Response;
        response.StatusCode = error.StatusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
