using System.Security.Cryptography;
using System.Text;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Auth;

/// <summary>
/// The built-in issuer's ES256 key: <c>auth.token.builtin.key</c> when set, else one generated once and kept in storage
/// at <see cref="StoragePath"/> (create-if-absent, so replicas starting together agree on the first one written).
/// </summary>
internal static class TokenSigningKey
{
    /// <summary>A dbuild-only path, outside <c>docker/registry/v2</c> (registry:2 and GC never look there).</summary>
    public const string StoragePath = "dbuild/auth/token-key.pem";

    public static ECDsa FromPem(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                throw new InvalidDataException("the key is not an EC P-256 key (ES256)");
            }
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public static async Task<ECDsa> LoadAsync(string? keyFile, IStorageDriver storage, CancellationToken cancellationToken)
    {
        if (keyFile is not null) { return FromPem(await File.ReadAllTextAsync(keyFile, cancellationToken).ConfigureAwait(false)); }
        StorageContent? stored = await storage.ReadAllAsync(StoragePath, 64 * 1024, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            byte[] pem = Encoding.ASCII.GetBytes(fresh.ExportPkcs8PrivateKeyPem() + "\n");
            // Another replica may win the race; either way the stored key is the one every replica uses.
            await storage.WriteAsync(StoragePath, pem, WriteCondition.IfAbsent, cancellationToken).ConfigureAwait(false);
            stored = await storage.ReadAllAsync(StoragePath, 64 * 1024, cancellationToken).ConfigureAwait(false)
                ?? throw new IOException($"the token signing key {StoragePath} vanished right after it was written");
        }
        return FromPem(Encoding.ASCII.GetString(stored.Content));
    }

    /// <summary>
    /// libtrust's key id, which distribution matches a token's <c>kid</c> against: SHA-256 of the DER public key,
    /// truncated to 240 bits, base32 in 12 groups of 4 joined by ':'.
    /// </summary>
    public static string KeyId(AsymmetricAlgorithm key)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] hash = SHA256.HashData(key.ExportSubjectPublicKeyInfo());
        string base32 = Base32(hash.AsSpan(0, 30));
        return string.Join(':', Enumerable.Range(0, base32.Length / 4).Select(i => base32.Substring(i * 4, 4)));
    }

    private static string Base32(ReadOnlySpan<byte> bytes)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var text = new StringBuilder();
        int buffer = 0, bits = 0;
        foreach (byte b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) { text.Append(Alphabet[(buffer << (5 - bits)) & 31]); }
        return text.ToString();
    }
}
