using Dbuild.Registry.Auth;
using Dbuild.Registry.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dbuild.Registry.Ui;

/// <summary>Who is looking at the UI and which repositories they may see (those they may pull).</summary>
internal sealed record UiViewer(string? Account, bool SignInOffered, Func<string, bool> MayPull);

/// <summary>
/// The UI's auth, the API's rules: with <c>auth.htpasswd</c> every page needs Basic credentials from that file (a
/// Basic challenge otherwise); with the built-in token issuer (<c>auth.token.builtin</c>) a browser signs in with Basic
/// credentials checked against the issuer's htpasswd and sees only what <see cref="IAccessRules"/> let that account
/// pull (signed out: only the rules for <c>*</c>); without auth everything is visible.
/// </summary>
internal sealed class UiAccess(IOptions<RegistryOptions> options, HtpasswdAuthenticator htpasswd, TokenIssuer issuer, IAccessRules rules,
    ILogger<UiAccess> logger)
{
    private static readonly string[] Pull = ["pull"];
    private static readonly Func<string, bool> Everything = _ => true;

    /// <summary>
    /// An external token issuer's accounts cannot be checked here: the UI needs no auth, htpasswd or the built-in issuer.
    /// </summary>
    public static void Validate(RegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.UiEnabled && options.TokenRootCertBundle is not null && options.TokenBuiltinHtpasswd is null)
        {
            throw new RegistryConfigurationException("ui.enabled",
                "the web UI cannot check accounts of an external token issuer (auth.token.rootcertbundle): use auth.token.builtin or auth.htpasswd");
        }
    }

    /// <summary>
    /// The viewer, or null when a 401 with a Basic challenge was written (no or wrong credentials where they are
    /// needed; <paramref name="signIn"/>: the sign-in page, which always asks for them).
    /// </summary>
    public UiViewer? Identify(HttpContext context, bool signIn)
    {
        ArgumentNullException.ThrowIfNull(context);
        string? header = context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null;
        if (htpasswd.Enabled)
        {
            return htpasswd.TryAuthenticate(header, out string user) ? new UiViewer(user, false, Everything) : Challenge(context, htpasswd.Realm, header);
        }
        if (issuer.Users is { } accounts)
        {
            if (header is null) { return signIn ? Challenge(context, options.Value.TokenServiceName, header) : Viewer(null); }
            return accounts.TryAuthenticate(header, out string user) ? Viewer(user) : Challenge(context, options.Value.TokenServiceName, header);
        }
        return new UiViewer(null, false, Everything);
    }

    private UiViewer Viewer(string? account) => new(account, account is null, repository => rules.Grant(account, repository, Pull).Count > 0);

    private UiViewer? Challenge(HttpContext context, string realm, string? header)
    {
        if (header is not null) { Log.AuthenticationFailed(logger, context.Connection.RemoteIpAddress?.ToString() ?? "-"); }
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{realm}\", charset=\"UTF-8\"";
        return null;
    }
}
