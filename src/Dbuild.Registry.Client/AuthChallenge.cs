namespace Dbuild.Registry.Client;

/// <summary>One <c>WWW-Authenticate</c> challenge: the scheme and its parameters (realm, service, scope).</summary>
/// <remarks>https://distribution.github.io/distribution/spec/auth/token/ and RFC 7235 section 4.1.</remarks>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBearer => string.Equals(Scheme, "Bearer", StringComparison.OrdinalIgnoreCase);
    public bool IsBasic => string.Equals(Scheme, "Basic", StringComparison.OrdinalIgnoreCase);
    public string? Realm => Parameters.GetValueOrDefault("realm");
    public string? Service => Parameters.GetValueOrDefault("service");
    public string? Scope => Parameters.GetValueOrDefault("scope");

    /// <summary>The space-separated <c>scope</c> parameter split into scopes; empty when there is none.</summary>
    public IReadOnlyList<string> Scopes => Scope?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    /// <summary>The <c>error</c> parameter of a Bearer challenge to a rejected token: <c>invalid_token</c> or <c>insufficient_scope</c> (RFC 6750 section 3.1).</summary>
    public string? Error => Parameters.GetValueOrDefault("error");

    /// <summary>Parses <c>Bearer realm="https://auth",service="reg",scope="repository:a:pull"</c>; null when it is not a challenge.</summary>
    public static AuthChallenge? Parse(string header)
    {
        ReadOnlySpan<char> text = header.AsSpan().Trim();
        int space = text.IndexOf(' ');
        string scheme = (space < 0 ? text : text[..space]).ToString();
        if (scheme.Length == 0) { return null; }
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = space < 0 ? text.Length : space + 1;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ' ' || text[i] == ',')) { i++; }
            int eq = text[i..].IndexOf('=');
            if (eq < 0) { break; }
            string name = text.Slice(i, eq).Trim().ToString();
            i += eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var builder = new System.Text.StringBuilder();
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length) { i++; }
                    builder.Append(text[i]);
                    i++;
                }
                i++; // closing quote
                value = builder.ToString();
            }
            else
            {
                int end = text[i..].IndexOf(',');
                value = (end < 0 ? text[i..] : text.Slice(i, end)).Trim().ToString();
                i = end < 0 ? text.Length : i + end;
            }
            parameters[name] = value;
        }
        return new AuthChallenge(scheme, parameters);
    }
}
