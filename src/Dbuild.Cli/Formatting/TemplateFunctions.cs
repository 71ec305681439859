using System.Text;

namespace Dbuild.Cli.Formatting;

/// <summary>A template function: how many fixed arguments it takes, whether more may follow, and its body.</summary>
internal sealed record TemplateFunction(int Fixed, bool Variadic, Func<IReadOnlyList<object?>, object?> Call);

/// <summary>A function refused its arguments: <c>error calling NAME: MESSAGE</c>.</summary>
internal sealed class TemplateCallException(string message) : Exception(message);

/// <summary>An argument of the wrong Go type: <c>wrong type for value; expected string; got int</c>.</summary>
internal sealed class TemplateArgumentException(int index, string expected, string message) : Exception(message)
{
    /// <summary>Which argument (0-based) was refused.</summary>
    public int Index { get; } = index;

    /// <summary>The Go type the function wanted: <c>string</c>, <c>int</c> or <c>[]string</c>.</summary>
    public string Expected { get; } = expected;
}

/// <summary>
/// The functions docker's templates have: Go's builtins (and, or, not, len, index, print, printf, println, eq, ne, lt,
/// le, gt, ge) and docker's own (json, split, join, title, lower, upper, pad, truncate); and the header variants
/// docker uses to print a table's header row, which return their first argument unchanged.
/// </summary>
internal static class TemplateFunctions
{
    public static IReadOnlyDictionary<string, TemplateFunction> Docker { get; } = new Dictionary<string, TemplateFunction>
    {
        ["and"] = new(1, true, a => a.FirstOrDefault(v => !GoFormat.IsTrue(v), a[^1])),
        ["or"] = new(1, true, a => a.FirstOrDefault(GoFormat.IsTrue, a[^1])),
        ["not"] = new(1, false, a => !GoFormat.IsTrue(a[0])),
        ["len"] = new(1, false, a => Length(a[0])),
        ["index"] = new(1, true, Index),
        ["print"] = new(0, true, GoFormat.Sprint),
        ["println"] = new(0, true, GoFormat.Sprintln),
        ["printf"] = new(1, true, a => GoPrintf.Format(String(a, 0), a.Skip(1).ToList())),
        ["eq"] = new(1, true, a => a.Skip(1).Any(b => Compare(a[0], b) == 0)),
        ["ne"] = new(2, false, a => Compare(a[0], a[1]) != 0),
        ["lt"] = new(2, false, a => Compare(a[0], a[1], ordered: true) < 0),
        ["le"] = new(2, false, a => Compare(a[0], a[1], ordered: true) <= 0),
        ["gt"] = new(2, false, a => Compare(a[0], a[1], ordered: true) > 0),
        ["ge"] = new(2, false, a => Compare(a[0], a[1], ordered: true) >= 0),
        ["slice"] = new(1, true, a => SliceBounds(a) is var (from, to) && a[0] is string text ? text[from..to] : SliceList((GoSlice)a[0]!, from, to)),
        ["html"] = new(0, true, a => System.Net.WebUtility.HtmlEncode(GoFormat.Sprint(a)).Replace("&#39;", "&#39;", StringComparison.Ordinal).Replace("&quot;", "&#34;", StringComparison.Ordinal)),
        ["urlquery"] = new(0, true, a => Uri.EscapeDataString(GoFormat.Sprint(a)).Replace("%20", "+", StringComparison.Ordinal)),
        ["json"] = new(1, false, a => GoFormat.Json(a[0])),
        ["split"] = new(2, false, a => new GoSlice([.. Split(String(a, 0), String(a, 1))])),
        ["join"] = new(2, false, a => Strings(a, 0).ToList() is var parts ? string.Join(String(a, 1), parts) : ""),
        ["title"] = new(1, false, a => Title(String(a, 0))),
        ["lower"] = new(1, false, a => String(a, 0).ToLowerInvariant()),
        ["upper"] = new(1, false, a => String(a, 0).ToUpperInvariant()),
        ["pad"] = new(3, false, a => String(a, 0) is { Length: > 0 } s ? new string(' ', (int)Int(a, 1)) + s + new string(' ', (int)Int(a, 2)) : ""),
        ["truncate"] = new(2, false, a => String(a, 0) is var s && s.Length < Int(a, 1) ? s : String(a, 0)[..(int)Int(a, 1)]),
    };

    /// <summary>docker's <c>HeaderFunctions</c>: for the header row, the formatting functions return the column name as is.</summary>
    public static IReadOnlyDictionary<string, TemplateFunction> Header { get; } = Docker.ToDictionary(
        f => f.Key,
        f => f.Key is "json" or "split" or "join" or "title" or "lower" or "upper" or "pad" or "truncate" ? f.Value with { Call = a => a[0] } : f.Value);

    private static long Length(object? value) => value switch
    {
        string s => (long)Encoding.UTF8.GetByteCount(s),
        GoSlice slice => (long)slice.Items.Count,
        GoMap map => (long)map.Entries.Count,
        _ => throw new TemplateCallException($"len of type {GoFormat.TypeName(value)}"),
    };

    private static object? Index(IReadOnlyList<object?> args)
    {
        object? item = args[0];
        foreach (object? key in args.Skip(1))
        {
            item = item switch
            {
                GoSlice slice when key is long i => i >= 0 && i < slice.Items.Count ? slice.Items[(int)i] : throw new TemplateCallException($"index out of range: {i}"),
                GoSlice => throw new TemplateCallException($"cannot index slice/array with type {GoFormat.TypeName(key)}"),
                string s when key is long i => i >= 0 && i < Encoding.UTF8.GetByteCount(s) ? (long)Encoding.UTF8.GetBytes(s)[i] : throw new TemplateCallException($"index out of range: {i}"),
                GoMap map when key is string k => map.TryGet(k, out object? v) ? v : map.Zero,
                GoMap => throw new TemplateCallException($"value has type {GoFormat.TypeName(key)}; should be string"),
                null or NoValue => throw new TemplateCallException("index of untyped nil"),
                _ => throw new TemplateCallException($"can't index item of type {GoFormat.TypeName(item).TrimStart('*')}"),
            };
        }
        return item;
    }

    /// <summary>Go's <c>slice x 1 2</c>: a string (by bytes, ASCII here) or a slice cut at the given indexes.</summary>
    private static GoSlice SliceList(GoSlice slice, int from, int to) => new([.. slice.Items.Skip(from).Take(to - from)]);

    private static (int From, int To) SliceBounds(IReadOnlyList<object?> args)
    {
        var indexes = args.Skip(1).Select((a, i) => a is long l ? l : throw new TemplateCallException($"cannot index slice/array with type {GoFormat.TypeName(a)}")).ToList();
        int length = args[0] switch
        {
            string s => s.Length,
            GoSlice slice => slice.Items.Count,
            _ => throw new TemplateCallException($"can't slice item of type {GoFormat.TypeName(args[0])}"),
        };
        if (indexes.Count > 2) { throw new TemplateCallException("too many slice indexes: " + indexes.Count); }
        long from = indexes.Count > 0 ? indexes[0] : 0, to = indexes.Count > 1 ? indexes[1] : length;
        if (from < 0 || from > length) { throw new TemplateCallException($"index out of range: {from}"); }
        if (to < from || to > length) { throw new TemplateCallException($"index out of range: {to}"); }
        return ((int)from, (int)to);
    }

    private static int Compare(object? a, object? b, bool ordered = false)
    {
        if (a is NoValue || b is NoValue) { throw new TemplateCallException("invalid type for comparison"); }
        return (a, b) switch
        {
            (long x, long y) => x.CompareTo(y),
            (double x, double y) => x.CompareTo(y),
            (string x, string y) => string.CompareOrdinal(x, y),
            (bool x, bool y) when !ordered => x == y ? 0 : 1,
            (null, null) when !ordered => 0,
            (GoSlice or GoMap, _) or (_, GoSlice or GoMap) => throw new TemplateCallException(ordered ? "invalid type for comparison" : "non-comparable types"),
            _ when ordered && a is bool => throw new TemplateCallException("invalid type for comparison"),
            _ => throw new TemplateCallException("incompatible types for comparison"),
        };
    }

    private static IEnumerable<string> Split(string s, string separator)
    {
        if (separator.Length > 0) { return s.Split(separator); }
        return s.EnumerateRunes().Select(r => r.ToString());
    }

    /// <summary>Go's <c>strings.Title</c>: the first letter of each word upper-cased; words end at spaces and punctuation.</summary>
    private static string Title(string s)
    {
        var text = new StringBuilder(s.Length);
        char previous = ' ';
        foreach (char c in s)
        {
            bool separator = char.IsAscii(previous) ? !(char.IsAsciiLetterOrDigit(previous) || previous == '_') : char.IsWhiteSpace(previous);
            text.Append(separator ? char.ToUpperInvariant(c) : c);
            previous = c;
        }
        return text.ToString();
    }

    internal static string String(IReadOnlyList<object?> args, int index) => args[index] switch
    {
        string s => s,
        NoValue => throw new TemplateArgumentException(index, "string", "invalid value; expected string"),
        var value => throw new TemplateArgumentException(index, "string", $"wrong type for value; expected string; got {GoFormat.TypeName(value)}"),
    };

    private static long Int(IReadOnlyList<object?> args, int index) => args[index] switch
    {
        long l => l,
        NoValue => throw new TemplateArgumentException(index, "int", "invalid value; expected int"),
        var value => throw new TemplateArgumentException(index, "int", $"wrong type for value; expected int; got {GoFormat.TypeName(value)}"),
    };

    private static IEnumerable<string> Strings(IReadOnlyList<object?> args, int index) => args[index] switch
    {
        GoSlice slice when slice.Items.All(i => i is string) => slice.Items.Cast<string>(),
        GoSlice => throw new TemplateArgumentException(index, "[]string", "wrong type for value; expected []string; got []interface {}"),
        null => [],
        NoValue => throw new TemplateArgumentException(index, "[]string", "invalid value; expected []string"),
        var value => throw new TemplateArgumentException(index, "[]string", $"wrong type for value; expected []string; got {GoFormat.TypeName(value)}"),
    };
}
