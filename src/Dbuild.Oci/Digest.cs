using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Dbuild.Oci;

/// <summary>A content digest such as <c>sha256:e3b0…</c>: algorithm plus lowercase hex of the hash.</summary>
/// <remarks>https://github.com/opencontainers/image-spec/blob/v1.1.0/descriptor.md#digests</remarks>
public readonly record struct Digest : IComparable<Digest>
{
    /// <summary>The algorithm name for SHA-256, the default and registered algorithm.</summary>
    public const string Sha256Algorithm = "sha256";

    /// <summary>The algorithm name for SHA-512.</summary>
    public const string Sha512Algorithm = "sha512";

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    private Digest(string algorithm, string encoded) => (Algorithm, Encoded) = (algorithm, encoded);

    /// <summary>The algorithm, <c>sha256</c> or <c>sha512</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The hash in lowercase hex (64 characters for sha256, 128 for sha512).</summary>
    public string Encoded { get; }

    /// <summary>The sha256 digest of the empty byte sequence.</summary>
    public static Digest EmptySha256 { get; } = new(Sha256Algorithm, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    /// <summary>Builds a sha256 digest from the 32 bytes of a hash.</summary>
    public static Digest FromSha256(ReadOnlySpan<byte> hash) =>
        hash.Length == 32 ? new(Sha256Algorithm, Convert.ToHexStringLower(hash)) : throw new ArgumentException("A sha256 hash is 32 bytes.", nameof(hash));

    /// <summary>Builds a sha512 digest from the 64 bytes of a hash.</summary>
    public static Digest FromSha512(ReadOnlySpan<byte> hash) =>
        hash.Length == 64 ? new(Sha512Algorithm, Convert.ToHexStringLower(hash)) : throw new ArgumentException("A sha512 hash is 64 bytes.", nameof(hash));

    /// <summary>Hashes bytes already in memory (manifests, configs) with sha256.</summary>
    public static Digest Compute(ReadOnlySpan<byte> content)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(content, hash);
        return FromSha256(hash);
    }

    /// <summary>Hashes bytes already in memory with the given algorithm.</summary>
    public static Digest Compute(ReadOnlySpan<byte> content, string algorithm)
    {
        if (algorithm == Sha512Algorithm)
        {
            Span<byte> hash = stackalloc byte[64];
            SHA512.HashData(content, hash);
            return FromSha512(hash);
        }
        return algorithm == Sha256Algorithm ? Compute(content) : throw new ArgumentException($"Unsupported digest algorithm '{algorithm}'.", nameof(algorithm));
    }

    /// <summary>Hashes a stream to its end with sha256, through a pooled buffer.</summary>
    public static async Task<Digest> ComputeAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return FromSha256(hash);
    }

    /// <summary>Parses <c>algorithm:hex</c> strictly: a known algorithm, lowercase hex of the right length.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest) => TryParse(value, out digest, out _);

    /// <summary>Parses strictly and says why a value is not a digest.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest, [NotNullWhen(false)] out string? error)
    {
        digest = default;
        if (string.IsNullOrEmpty(value)) { error = "digest is empty"; return false; }
        int colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) { error = $"'{value}' has no algorithm prefix (expected sha256:<hex>)"; return false; }
        string algorithm = value[..colon];
        ReadOnlySpan<char> encoded = value.AsSpan(colon + 1);
        int length;
        switch (algorithm)
        {
            case Sha256Algorithm: length = 64; break;
            case Sha512Algorithm: length = 128; break;
            default: error = $"unsupported digest algorithm '{algorithm}'"; return false;
        }
        if (encoded.Length != length) { error = $"{algorithm} digest must have {length} hex characters, got {encoded.Length}"; return false; }
        if (encoded.ContainsAnyExcept(LowerHex)) { error = $"{algorithm} digest must be lowercase hex"; return false; }
        digest = new Digest(algorithm, encoded.ToString());
        error = null;
        return true;
    }

    /// <summary>Parses strictly or throws <see cref="FormatException"/> naming the problem.</summary>
    public static Digest Parse(string value) =>
        TryParse(value, out Digest digest, out string? error) ? digest : throw new FormatException($"Invalid digest: {error}.");

    /// <summary>Creates the incremental hash matching this digest's algorithm.</summary>
    public IncrementalHash CreateHash() => CreateHash(Algorithm);

    /// <summary>Creates the incremental hash for an algorithm name.</summary>
    public static IncrementalHash CreateHash(string algorithm) => algorithm switch
    {
        Sha512Algorithm => IncrementalHash.CreateHash(HashAlgorithmName.SHA512),
        _ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
    };

    /// <summary>Turns a finished incremental hash into a digest of the given algorithm.</summary>
    public static Digest FromHash(IncrementalHash hash, string algorithm)
    {
        ArgumentNullException.ThrowIfNull(hash);
        byte[] value = hash.GetHashAndReset();
        return algorithm == Sha512Algorithm ? FromSha512(value) : FromSha256(value);
    }

    /// <summary>True for the default (uninitialised) value.</summary>
    public bool IsEmpty => Algorithm is null;

    /// <inheritdoc />
    public int CompareTo(Digest other) => string.CompareOrdinal(ToString(), other.ToString());

    /// <summary>Ordinal order of the string forms.</summary>
    public static bool operator <(Digest left, Digest right) => left.CompareTo(right) < 0;
    /// <summary>Ordinal order of the string forms.</summary>
    public static bool operator <=(Digest left, Digest right) => left.CompareTo(right) <= 0;
    /// <summary>Ordinal order of the string forms.</summary>
    public static bool operator >(Digest left, Digest right) => left.CompareTo(right) > 0;
    /// <summary>Ordinal order of the string forms.</summary>
    public static bool operator >=(Digest left, Digest right) => left.CompareTo(right) >= 0;

    /// <inheritdoc />
    public override string ToString() => Algorithm is null ? "" : $"{Algorithm}:{Encoded}";
}
