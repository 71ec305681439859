namespace Dbuild.Dockerfile;

/// <summary>A here-document attached to RUN, COPY or ADD (<c>&lt;&lt;EOF</c>, <c>&lt;&lt;-EOF</c>, <c>3&lt;&lt;"EOF"</c>).</summary>
/// <param name="Name">The terminator word, quotes removed.</param>
/// <param name="FileDescriptor">The descriptor before <c>&lt;&lt;</c>, 0 when absent.</param>
/// <param name="Expand">False when any part of the marker was quoted: the body is taken literally.</param>
/// <param name="Chomp">True for <c>&lt;&lt;-</c>: leading tabs are stripped when the instruction is evaluated.</param>
/// <param name="Content">The raw body, including newlines and (for <c>&lt;&lt;-</c>) leading tabs.</param>
public sealed record Heredoc(string Name, int FileDescriptor, bool Expand, bool Chomp, string Content)
{
    /// <summary>The body with leading tabs removed from each line when <see cref="Chomp"/> is set.</summary>
    public string EffectiveContent
    {
        get
        {
            if (!Chomp) { return Content; }
            string[] lines = Content.Split('\n');
            for (int i = 0; i < lines.Length; i++) { lines[i] = lines[i].TrimStart('\t'); }
            return string.Join('\n', lines);
        }
    }
}
