using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace Dbuild.Registry.Auth;

/// <summary>
/// A compact JWS (<c>header.claims.signature</c>, each base64url without padding) as docker's token spec uses: the parsed
/// header and claims, the bytes the signature covers, and the signature.
/// </summary>
/// <remarks>https://datatracker.ietf.org/doc/html/rfc7515#section-7.1</remarks>
internal sealed record Jws(JsonElement Header, JsonElement Claims, byte[] SigningInput, byte[] Signature)
{
    private const int MaxTokenLength = 64 * 1024;

    public static bool TryParse(string raw, [NotNullWhen(true)] out Jws? jws)
    {
        jws = null;
        if (raw.Length > MaxTokenLength) { return false; }
        string[] parts = raw.Split('.');
        if (parts.Length != 3) { return false; }
        if (!TryDecode(parts[0], out byte[]? header) || !TryDecode(parts[1], out byte[]? claims) || !TryDecode(parts[2], out byte[]? signature)) { return false; }
        try
        {
            using JsonDocument headerDocument = JsonDocument.Parse(header);
            using JsonDocument claimsDocument = JsonDocument.Parse(claims);
            if (headerDocument.RootElement.ValueKind != JsonValueKind.Object || claimsDocument.RootElement.ValueKind != JsonValueKind.Object) { return false; }
            jws = new Jws(headerDocument.RootElement.Clone(), claimsDocument.RootElement.Clone(),
                Encoding.ASCII.GetBytes(raw[..raw.LastIndexOf('.')]), signature);
            return true;
        }
        catch (JsonException) { return false; }
    }

    /// <summary>The signed compact form of <paramref name="header"/> and <paramref name="claims"/>.</summary>
    public static string Create(object header, object claims, Func<byte[], byte[]> sign)
    {
        ArgumentNullException.ThrowIfNull(sign);
        string input = Encode(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        return input + "." + Encode(sign(Encoding.ASCII.GetBytes(input)));
    }

    public string? HeaderString(string name) =>
        Header.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string text, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        string padded = text.Replace('-', '+').Replace('_', '/');
        padded += (padded.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => "!" };
        try { bytes = Convert.FromBase64String(padded); return true; }
        catch (FormatException) { return false; }
    }
}
