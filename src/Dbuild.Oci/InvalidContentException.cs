namespace Dbuild.Oci;

/// <summary>A manifest, index, config or layout file is malformed; the message says which field and why.</summary>
public sealed class InvalidContentException(string message, Exception? innerException = null) : Exception(message, innerException);
