namespace Dbuild.Registry.Client.Resilience;

/// <summary>
/// A request made no progress for the read timeout, or its connection was not established within the connect timeout.
/// An <see cref="IOException"/>, so it is retried and reported like any other transport failure.
/// </summary>
internal sealed class RegistryTimeoutException(string message, Exception? innerException) : IOException(message, innerException);
