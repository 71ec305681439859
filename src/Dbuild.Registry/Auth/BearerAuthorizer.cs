using System.Text;
using Dbuild.Registry.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Auth;

/// <summary>
/// Token auth on every <c>/v2</c> request, as distribution 2.8's token access controller: the route's access items
/// (pull for reads, pull+push for writes, delete for DELETE, pull on <c>from</c> for a mount, <c>registry:catalog:*</c>
/// for the catalog) must all be in the token's <c>access</c> claim. Otherwise 401 UNAUTHORIZED with the items as
/// detail and a <c>Bearer realm,service,scope[,error]</c> challenge.
/// </summary>
internal sealed class BearerAuthorizer(IOptions<RegistryOptions> options, TokenVerifier verifier, IAccessRules rules)
{
    /// <summary>The verified token's claims, in <see cref="HttpContext.Items"/>.</summary>
    public const string ClaimsItem = "dbuild.tokenClaims";

    private readonly RegistryOptions _options = options.Value;

    public bool Enabled => _options.TokenAuthEnabled;

    /// <summary>Returns the verified claims, or throws the 401 the client must see (the challenge header set).</summary>
    public async Task<TokenClaims> AuthorizeAsync(HttpContext context, DistributionPath route)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(route);
        IReadOnlyList<AccessItem> needed = Required(route, context.Request);
        string? error = null;
        string header = context.Request.Headers.Authorization.ToString();
        int space = header.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0 && header[..space].Equals("bearer", StringComparison.OrdinalIgnoreCase) && header.IndexOf(' ', space + 1) < 0)
        {
            TokenClaims? claims = await verifier.VerifyAsync(header[(space + 1)..], _options.TokenServiceName, context.RequestAborted).ConfigureAwait(false);
            if (claims is null) { error = "invalid_token"; }
            else if (needed.All(claims.Allows))
            {
                context.Items[ClaimsItem] = claims;
                return claims;
            }
            else { error = "insufficient_scope"; }
        }
        context.Response.Headers.WWWAuthenticate = Challenge(context.Request, needed, error);
        throw new DistributionException(DistributionErrors.Unauthorized, "authentication required", 401,
            needed.Count == 0 ? null : needed.Select(a => new { a.Type, Class = "", a.Name, a.Action }).ToList());
    }

    /// <summary>
    /// With the built-in issuer, the catalog entries the token's account may pull (registry:2, and so the external mode,
    /// lists every repository to whoever holds <c>registry:catalog:*</c>).
    /// </summary>
    public IReadOnlyList<string> Visible(HttpContext context, IReadOnlyList<string> repositories)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_options.TokenBuiltinHtpasswd is null || !context.Items.TryGetValue(ClaimsItem, out object? item) || item is not TokenClaims claims) { return repositories; }
        string? account = claims.Subject.Length == 0 ? null : claims.Subject;
        return [.. repositories.Where(r => rules.Grant(account, r, Pull).Count > 0)];
    }

    private static readonly string[] Pull = ["pull"];

    /// <summary>What registry:2 asks of a request on <paramref name="route"/> (app.go's appendAccessRecords).</summary>
    internal static IReadOnlyList<AccessItem> Required(DistributionPath route, HttpRequest request)
    {
        if (route.Route == DistributionRoute.Base) { return []; }
        if (route.Route == DistributionRoute.Catalog) { return [new AccessItem("registry", "catalog", "*")]; }
        var items = new List<AccessItem>();
        string method = request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) { items.Add(new("repository", route.Name, "pull")); }
        else if (HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method))
        {
            items.Add(new("repository", route.Name, "pull"));
            items.Add(new("repository", route.Name, "push"));
        }
        else if (HttpMethods.IsDelete(method)) { items.Add(new("repository", route.Name, "delete")); }
        if (request.Query.TryGetValue("from", out var from) && from.ToString() is { Length: > 0 } source)
        {
            items.Add(new("repository", source, "pull")); // mounting needs pull on the source
        }
        return items;
    }

    /// <summary>
    /// The realm: with <c>auth.token.autoredirect</c> registry:2's <c>https://HOST/auth/token</c>; else <c>auth.token.realm</c>;
    /// else (built-in issuer) this registry's own <c>/auth/token</c> as the client reached it.
    /// </summary>
    public string Realm(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_options.TokenAutoRedirect) { return $"https://{request.Host}/auth/token"; }
        return _options.TokenRealm ?? $"{request.Scheme}://{request.Host}{request.PathBase}/auth/token";
    }

    private string Challenge(HttpRequest request, IReadOnlyList<AccessItem> needed, string? error)
    {
        var text = new StringBuilder($"Bearer realm=\"{Realm(request)}\",service=\"{_options.TokenServiceName}\"");
        string scope = string.Join(' ', needed.GroupBy(a => (a.Type, a.Name)).Select(g => $"{g.Key.Type}:{g.Key.Name}:{string.Join(',', g.Select(a => a.Action).Distinct())}"));
        if (scope.Length > 0) { text.Append($",scope=\"{scope}\""); }
        if (error is not null) { text.Append($",error=\"{error}\""); }
        return text.ToString();
    }
}
