namespace Dbuild.Dockerfile;

/// <summary>A command in shell form (<see cref="PrependShell"/>, one string) or exec form (JSON array).</summary>
/// <param name="Arguments">The exec arguments, or the single shell string.</param>
/// <param name="PrependShell">True for shell form: run through the stage's SHELL.</param>
public sealed record CommandLine(IReadOnlyList<string> Arguments, bool PrependShell);
