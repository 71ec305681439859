using System.Text;
using Dbuild.Registry.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Ui;

/// <summary>
/// The read-only web UI (<c>ui.enabled</c>): <c>/ui/</c> repositories (<c>?q=</c> search, <c>?page=</c>),
/// <c>/ui/r/NAME</c> its tags, <c>/ui/r/NAME/m/TAG-or-DIGEST</c> a manifest or index, <c>/ui/login</c> signing in.
/// Server-rendered HTML; nothing is fetched from elsewhere.
/// </summary>
internal static class UiEndpoints
{
    public const string Root = "/ui/";
    private const string SignInPath = "/ui/login";

    public static IEndpointRouteBuilder MapRegistryUi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (!endpoints.ServiceProvider.GetRequiredService<IOptions<RegistryOptions>>().Value.UiEnabled) { return endpoints; }
        string[] methods = ["GET", "HEAD"];
        endpoints.MapMethods("/ui", methods, HandleAsync); // routing matches "/ui/" here too
        endpoints.MapMethods("/ui/{**path}", methods, HandleAsync);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Path.Value == "/ui")
        {
            context.Response.Redirect(Root);
            return;
        }
        string path = context.Request.Path.Value is { } value && value.StartsWith(Root, StringComparison.Ordinal) ? value[Root.Length..] : "";
        UiViewer? viewer = context.RequestServices.GetRequiredService<UiAccess>().Identify(context, path == "login");
        if (viewer is null)
        {
            await WriteAsync(context, StatusCodes.Status401Unauthorized, "Sign in",
                new UiHtml().Raw("<h1>Sign in required</h1><p>This registry needs an account to browse it.</p>"), new UiViewer(null, false, _ => false)).ConfigureAwait(false);
            return;
        }
        if (path == "login")
        {
            context.Response.Redirect(Root);
            return;
        }
        UiReader reader = context.RequestServices.GetRequiredService<UiReader>();
        CancellationToken cancellationToken = context.RequestAborted;
        int page = int.TryParse(context.Request.Query["page"], out int n) ? n : 1;
        string host = context.Request.Host.Value ?? "localhost";
        if (path.Length == 0)
        {
            string query = context.Request.Query["q"].ToString().Trim();
            UiPage<string> repositories = await reader.ListRepositoriesAsync(viewer, query, page, cancellationToken).ConfigureAwait(false);
            await WriteAsync(context, 200, query.Length > 0 ? $"Search: {query}" : "Repositories", UiPages.Repositories(repositories, query), viewer).ConfigureAwait(false);
            return;
        }
        if (path.StartsWith("r/", StringComparison.Ordinal))
        {
            string rest = path[2..].TrimEnd('/');
            if (await TryManifestAsync(context, reader, viewer, rest, host, cancellationToken).ConfigureAwait(false)) { return; }
            if (DistributionPath.IsValidName(rest) && viewer.MayPull(rest)
                && await reader.ListTagsAsync(rest, page, cancellationToken).ConfigureAwait(false) is { } tags)
            {
                await WriteAsync(context, 200, rest, UiPages.Tags(rest, host, tags), viewer).ConfigureAwait(false);
                return;
            }
            await WriteAsync(context, 404, "Not found", UiPages.NotFound($"Repository {rest}"), viewer).ConfigureAwait(false);
            return;
        }
        await WriteAsync(context, 404, "Not found", UiPages.NotFound($"The page /ui/{path}"), viewer).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>NAME/m/REFERENCE</c>: a repository name may itself contain an <c>m</c> component, so the last <c>/m/</c> splits,
    /// and a repository of the whole name is shown instead when the split names no manifest.
    /// </summary>
    private static async Task<bool> TryManifestAsync(HttpContext context, UiReader reader, UiViewer viewer, string rest, string host, CancellationToken cancellationToken)
    {
        int split = rest.LastIndexOf("/m/", StringComparison.Ordinal);
        if (split <= 0) { return false; }
        string name = rest[..split];
        string reference = rest[(split + 3)..];
        if (!DistributionPath.IsValidName(name) || reference.Length == 0 || !viewer.MayPull(name)) { return false; }
        if (await reader.GetManifestAsync(name, reference, cancellationToken).ConfigureAwait(false) is not { } manifest)
        {
            if (DistributionPath.IsValidName(rest) && viewer.MayPull(rest)) { return false; }
            await WriteAsync(context, 404, "Not found", UiPages.NotFound($"Manifest {name}:{reference}"), viewer).ConfigureAwait(false);
            return true;
        }
        await WriteAsync(context, 200, $"{name}:{reference}", UiPages.Manifest(manifest, host), viewer).ConfigureAwait(false);
        return true;
    }

    private static async Task WriteAsync(HttpContext context, int status, string title, UiHtml body, UiViewer viewer)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body.Document(title, viewer, SignInPath));
        HttpResponse response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = bytes.Length;
        // What a page shows depends on who asks; the inline style and script are the only ones it may run.
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = UiHtml.ContentSecurityPolicy;
        response.Headers["Referrer-Policy"] = "same-origin";
        if (!HttpMethods.IsHead(context.Request.Method)) { await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false); }
    }
}
