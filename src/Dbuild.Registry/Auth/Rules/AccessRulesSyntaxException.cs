namespace Dbuild.Registry.Auth.Rules;

/// <summary>The rules file is malformed at <see cref="Line"/>:<see cref="Column"/>; the message is the one line <c>FILE:LINE:COL: what is wrong</c>.</summary>
public sealed class AccessRulesSyntaxException(string path, long line, long column, string problem)
    : Exception($"{path}:{line}:{column}: {problem}")
{
    public string Path { get; } = path;

    public long Line { get; } = line;

    public long Column { get; } = column;

    public string Problem { get; } = problem;
}
