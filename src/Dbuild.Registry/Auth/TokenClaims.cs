using System.Text.Json;

namespace Dbuild.Registry.Auth;

/// <summary>One thing a request needs: <c>repository:NAME:pull</c>, <c>registry:catalog:*</c>.</summary>
internal readonly record struct AccessItem(string Type, string Name, string Action);

/// <summary>
/// The claims of a verified token (docker's token spec): <c>iss</c>, <c>sub</c>, <c>aud</c>, <c>exp</c>, <c>nbf</c> and the
/// <c>access</c> list of <c>{type, name, actions}</c>, kept as a set of <see cref="AccessItem"/>.
/// </summary>
/// <remarks>https://distribution.github.io/distribution/spec/auth/jwt/</remarks>
internal sealed record TokenClaims(string Issuer, string Subject, IReadOnlyList<string> Audiences, long Expiration, long NotBefore, IReadOnlySet<AccessItem> Access)
{
    public bool Allows(AccessItem item) => Access.Contains(item);

    /// <summary>Reads the claims; false when a required one has the wrong type.</summary>
    public static bool TryRead(JsonElement claims, out TokenClaims result)
    {
        result = null!;
        string issuer = String(claims, "iss") ?? "";
        string subject = String(claims, "sub") ?? "";
        var audiences = new List<string>();
        if (claims.TryGetProperty("aud", out JsonElement aud))
        {
            if (aud.ValueKind == JsonValueKind.String) { audiences.Add(aud.GetString()!); }
            else if (aud.ValueKind == JsonValueKind.Array) { audiences.AddRange(aud.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!)); }
        }
        if (!TryNumber(claims, "exp", out long expiration) || !TryNumber(claims, "nbf", out long notBefore)) { return false; }
        var access = new HashSet<AccessItem>();
        if (claims.TryGetProperty("access", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement entry in list.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object) { return false; }
                string type = String(entry, "type") ?? "";
                string name = String(entry, "name") ?? "";
                if (!entry.TryGetProperty("actions", out JsonElement actions) || actions.ValueKind != JsonValueKind.Array) { continue; }
                foreach (JsonElement action in actions.EnumerateArray())
                {
                    if (action.ValueKind == JsonValueKind.String) { access.Add(new AccessItem(type, name, action.GetString()!)); }
                }
            }
        }
        result = new TokenClaims(issuer, subject, audiences, expiration, notBefore, access);
        return true;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Absent counts as 0 (distribution's zero value); present must be a number.</summary>
    private static bool TryNumber(JsonElement element, string name, out long value)
    {
        value = 0;
        if (!element.TryGetProperty(name, out JsonElement number)) { return true; }
        if (number.ValueKind != JsonValueKind.Number) { return false; }
        value = number.TryGetInt64(out long whole) ? whole : (long)number.GetDouble();
        return true;
    }
}
