namespace Dbuild.Oci;

/// <summary>Content did not hash to the digest it was promised to have; nothing was stored.</summary>
public sealed class DigestMismatchException : Exception
{
    /// <summary>Creates the exception for an expected and an actual digest.</summary>
    public DigestMismatchException(Digest expected, Digest actual)
        : base($"Digest mismatch: expected {expected}, got {actual}. The content was discarded.") => (Expected, Actual) = (expected, actual);

    /// <summary>The digest the content was supposed to have.</summary>
    public Digest Expected { get; }

    /// <summary>The digest it actually had.</summary>
    public Digest Actual { get; }
}
