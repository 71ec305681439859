namespace Dbuild.Dockerfile;

/// <summary>A rule that fired: where and why.</summary>
/// <param name="Rule">The rule.</param>
/// <param name="Message">The specific message, e.g. <c>Stage name 'Build' should be lowercase</c>.</param>
/// <param name="File">The Dockerfile's name.</param>
/// <param name="Line">1-based start line.</param>
/// <param name="EndLine">1-based end line.</param>
public sealed record BuildCheck(BuildCheckRule Rule, string Message, string File, int Line, int EndLine)
{
    /// <summary>The rule's name.</summary>
    public string RuleName => Rule.Name;

    /// <summary><c>Dockerfile:3 JSONArgsRecommended: JSON arguments recommended …</c></summary>
    public override string ToString() => $"{File}:{Line} {Rule.Name}: {Message}";
}
