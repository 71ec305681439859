namespace Dbuild.Cli.Formatting;

/// <summary>
/// A template that does not parse: Go's <c>template: :LINE: MESSAGE</c>. A <see cref="FormatException"/>, so the CLI
/// exits 2 (usage) as for any other bad flag value.
/// </summary>
internal sealed class TemplateParseException(string message) : FormatException(message);

/// <summary>A template that fails while it runs: Go's <c>template: :LINE:COL: executing "" at &lt;NODE&gt;: MESSAGE</c>.</summary>
internal sealed class TemplateExecutionException(string message) : Exception(message);
