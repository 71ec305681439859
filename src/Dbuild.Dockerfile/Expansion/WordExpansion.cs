namespace Dbuild.Dockerfile;

/// <summary>The outcome of expanding one word: the text, the words it splits into, and which variables it used.</summary>
public sealed record WordExpansion(string Result, IReadOnlyList<string> Words, IReadOnlySet<string> Matched, IReadOnlySet<string> Unmatched);
