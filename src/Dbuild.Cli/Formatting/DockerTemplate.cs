using System.Text;

namespace Dbuild.Cli.Formatting;

/// <summary>
/// A <c>--format</c> value as docker reads it: Go template text with docker's functions, <c>\t</c> and <c>\n</c> written
/// out, and the <c>table</c> prefix, which adds a header row (the template run over the column names) and aligns the
/// columns with a tabwriter.
/// </summary>
internal sealed class DockerTemplate
{
    private readonly string _text;
    private readonly ListNode _root;

    private DockerTemplate(string text, bool isTable, bool missingKeyIsError)
    {
        _text = text;
        IsTable = isTable;
        _missingKeyIsError = missingKeyIsError;
        _root = TemplateParser.Parse(text, TemplateFunctions.Docker.ContainsKey);
    }

    private readonly bool _missingKeyIsError;

    /// <summary>True for a <c>table …</c> format.</summary>
    public bool IsTable { get; }

    /// <summary>Parses a format; a template that does not parse is a <see cref="TemplateParseException"/> (docker: <c>template parsing error: …</c>).</summary>
    public static DockerTemplate Parse(string format)
    {
        bool isTable = format.StartsWith("table", StringComparison.Ordinal);
        string text = (isTable ? format["table".Length..] : format).Trim(' ').Replace("\\t", "\t", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal);
        return Create(text, isTable, missingKeyIsError: false);
    }

    /// <summary>
    /// <c>inspect -f</c>'s template: the text as given (no <c>table</c>, no <c>\t</c> rewriting), over the inspected
    /// JSON where a missing key is an error (docker: <c>map has no entry for key "Foo"</c>).
    /// </summary>
    public static DockerTemplate ParseInspect(string format) => Create(format, isTable: false, missingKeyIsError: true);

    private static DockerTemplate Create(string text, bool isTable, bool missingKeyIsError)
    {
        try
        {
            return new DockerTemplate(text, isTable, missingKeyIsError);
        }
        catch (TemplateParseException ex)
        {
            throw new TemplateParseException("template parsing error: " + ex.Message);
        }
    }

    /// <summary>The template run over one value (no newline added).</summary>
    public string Execute(object? data)
    {
        try
        {
            return TemplateExecutor.Execute(_text, _root, data, TemplateFunctions.Docker, _missingKeyIsError);
        }
        catch (TemplateExecutionException ex)
        {
            throw new TemplateExecutionException("template parsing error: " + ex.Message);
        }
    }

    /// <summary>
    /// docker inspect's two tries: the template over the typed value, and when that fails over the plain JSON (where a
    /// missing key is an error); the second try's error is the one reported.
    /// </summary>
    public string ExecuteTypedThenRaw(object? typed, object? raw)
    {
        try
        {
            return TemplateExecutor.Execute(_text, _root, typed, TemplateFunctions.Docker);
        }
        catch (TemplateExecutionException)
        {
            return Execute(raw);
        }
    }

    /// <summary>
    /// What docker prints for these rows: each row and a newline; for a table, first the header row made from
    /// <paramref name="header"/> (a field name → column name map), all through docker's tabwriter.
    /// </summary>
    public string Render(IEnumerable<object?> rows, GoMap header)
    {
        var text = new StringBuilder();
        foreach (object? row in rows) { text.Append(Execute(row)).Append('\n'); }
        if (!IsTable) { return text.ToString(); }
        string headerRow;
        try
        {
            headerRow = TemplateExecutor.Execute(_text, _root, header, TemplateFunctions.Header, missingKeyIsError: false);
        }
        catch (TemplateExecutionException)
        {
            headerRow = ""; // docker ignores a header that does not execute
        }
        return GoTabWriter.Docker(headerRow + "\n" + text);
    }
}
