namespace Dbuild.Dockerfile;

/// <summary>A shell word could not be expanded (unbalanced quote, bad substitution, <c>${v:?message}</c>).</summary>
public sealed class WordExpansionException(string message) : FormatException(message);
