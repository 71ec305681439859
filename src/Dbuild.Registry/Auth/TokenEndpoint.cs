using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dbuild.Registry.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Auth;

/// <summary>
/// <c>/auth/token</c>, the built-in issuer's realm, per docker's token spec: GET with optional Basic credentials
/// (<c>service</c>, <c>scope</c>…, <c>offline_token</c>, <c>account</c>), and the OAuth2 POST form with
/// <c>grant_type=password</c> or <c>refresh_token</c>. Bad credentials get 401 UNAUTHORIZED.
/// </summary>
/// <remarks>https://distribution.github.io/distribution/spec/auth/token/ and https://distribution.github.io/distribution/spec/auth/oauth/</remarks>
internal sealed class TokenEndpoint(TokenIssuer issuer, ILogger<TokenEndpoint> logger)
{
    public const string Path = "/auth/token";

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.CacheControl = "no-store";
        try
        {
            if (!issuer.Enabled) { throw DistributionErrors.NotFoundError(Path); }
            if (HttpMethods.IsGet(context.Request.Method)) { await GetAsync(context).ConfigureAwait(false); }
            else if (HttpMethods.IsPost(context.Request.Method)) { await PostAsync(context).ConfigureAwait(false); }
            else { throw DistributionErrors.UnsupportedError($"{context.Request.Method} is not allowed on {Path}"); }
        }
        catch (DistributionException error) when (!context.Response.HasStarted)
        {
            await DistributionErrors.WriteAsync(context, error).ConfigureAwait(false);
        }
    }

    private async Task GetAsync(HttpContext context)
    {
        IQueryCollection query = context.Request.Query;
        CheckService(query["service"].ToString());
        string? account = null;
        string authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            if (!issuer.Users!.TryAuthenticate(authorization, out string user)) { throw BadCredentials(context); }
            account = user;
        }
        if (query["account"].ToString() is { Length: > 0 } claimed && account is not null && claimed != account)
        {
            throw new DistributionException(DistributionErrors.Denied, $"account '{claimed}' does not match the credentials given", 400);
        }
        IssuedToken token = await issuer.IssueAccessTokenAsync(account, query["scope"].Select(s => s ?? ""), context.RequestAborted).ConfigureAwait(false);
        string? refresh = account is not null && IsTrue(query["offline_token"].ToString())
            ? await issuer.IssueRefreshTokenAsync(account, context.RequestAborted).ConfigureAwait(false)
            : null;
        await WriteAsync(context, new GetResponse(token.Token, token.Token, token.ExpiresIn, TokenIssuer.FormatTime(token.IssuedAt), refresh)).ConfigureAwait(false);
    }

    private async Task PostAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            throw new DistributionException(DistributionErrors.Unsupported, "the token request must be an application/x-www-form-urlencoded form", 400);
        }
        IFormCollection form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        CheckService(form["service"].ToString());
        string account;
        string? refresh;
        switch (form["grant_type"].ToString())
        {
            case "password":
                string basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{form["username"]}:{form["password"]}"));
                if (!issuer.Users!.TryAuthenticate(basic, out account)) { throw BadCredentials(context); }
                refresh = form["access_type"].ToString() == "offline"
                    ? await issuer.IssueRefreshTokenAsync(account, context.RequestAborted).ConfigureAwait(false)
                    : null;
                break;
            case "refresh_token":
                refresh = form["refresh_token"].ToString();
                account = await issuer.VerifyRefreshTokenAsync(refresh, context.RequestAborted).ConfigureAwait(false) ?? throw BadCredentials(context);
                break;
            case var other:
                throw new DistributionException(DistributionErrors.Unsupported, $"grant_type '{other}' is not supported (password, refresh_token)", 400);
        }
        IssuedToken token = await issuer.IssueAccessTokenAsync(account, form["scope"].Select(s => s ?? ""), context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, new PostResponse(token.Token, string.Join(' ', token.Scopes), token.ExpiresIn, TokenIssuer.FormatTime(token.IssuedAt), refresh))
            .ConfigureAwait(false);
    }

    private void CheckService(string service)
    {
        if (service.Length > 0 && service != issuer.Service)
        {
            throw new DistributionException(DistributionErrors.Denied, $"this token server issues tokens for service '{issuer.Service}', not '{service}'", 400);
        }
    }

    private DistributionException BadCredentials(HttpContext context)
    {
        Log.TokenLoginFailed(logger, context.Connection.RemoteIpAddress?.ToString() ?? "-");
        context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{issuer.Service}\"";
        return new DistributionException(DistributionErrors.Unauthorized, "invalid username, password or refresh token", 401);
    }

    private static bool IsTrue(string value) => value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1";

    private static Task WriteAsync<T>(HttpContext context, T body)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    private sealed record GetResponse(
        [property: JsonPropertyName("token")] string Token,
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn,
        [property: JsonPropertyName("issued_at")] string IssuedAt,
        [property: JsonPropertyName("refresh_token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RefreshToken);

    private sealed record PostResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("scope")] string Scope,
        [property: JsonPropertyName("expires_in")] int ExpiresIn,
        [property: JsonPropertyName("issued_at")] string IssuedAt,
        [property: JsonPropertyName("refresh_token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RefreshToken);
}
