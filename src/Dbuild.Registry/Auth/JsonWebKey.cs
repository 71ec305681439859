using System.Security.Cryptography;
using System.Text.Json;

namespace Dbuild.Registry.Auth;

/// <summary>Public keys in JWK form (RFC 7517): EC P-256/384/521 and RSA, as libtrust writes them into a token's <c>jwk</c> header.</summary>
internal static class JsonWebKey
{
    public static AsymmetricAlgorithm? Read(JsonElement jwk)
    {
        string? Field(string name) => jwk.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        byte[]? Bytes(string name) => Field(name) is { } text && Jws.TryDecode(text, out byte[]? bytes) ? bytes : null;
        try
        {
            switch (Field("kty"))
            {
                case "EC":
                    ECCurve? curve = Field("crv") switch
                    {
                        "P-256" => ECCurve.NamedCurves.nistP256,
                        "P-384" => ECCurve.NamedCurves.nistP384,
                        "P-521" => ECCurve.NamedCurves.nistP521,
                        _ => null,
                    };
                    if (curve is null || Bytes("x") is not { } x || Bytes("y") is not { } y) { return null; }
                    return ECDsa.Create(new ECParameters { Curve = curve.Value, Q = new ECPoint { X = x, Y = y } });
                case "RSA":
                    if (Bytes("n") is not { } n || Bytes("e") is not { } e) { return null; }
                    return RSA.Create(new RSAParameters { Modulus = n, Exponent = e });
                default:
                    return null;
            }
        }
        catch (CryptographicException) { return null; }
    }
}
