using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dbuild.Cli.Formatting;

/// <summary>Go's <c>fmt</c> printing (<c>%v</c>, Sprint, Sprintln), truth and <c>encoding/json</c> for template values.</summary>
internal static class GoFormat
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The value as <c>{{.}}</c> prints it (<c>fmt.Fprint</c>).</summary>
    public static string Print(object? value) => value switch
    {
        null => "<nil>",
        NoValue => "<no value>",
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        GoSlice slice => "[" + string.Join(" ", slice.Items.Select(Print)) + "]",
        GoMap map => "map[" + string.Join(" ", map.Sorted.Select(e => e.Key + ":" + Print(e.Value))) + "]",
        GoStruct st => st.ToString(),
        GoTime t => t.ToString(),
        ITemplateObject o => "{" + string.Join(" ", ((JsonObject)o.ToJson()).Select(p => Print(FromJson(p.Value)))) + "}",
        _ => value.ToString() ?? "",
    };

    /// <summary><c>%v</c> of a float64: shortest digits, an exponent only from 1e21 (or below 1e-4).</summary>
    public static string Float(double d)
    {
        if (double.IsPositiveInfinity(d)) { return "+Inf"; }
        if (double.IsNegativeInfinity(d)) { return "-Inf"; }
        if (double.IsNaN(d)) { return "NaN"; }
        double abs = Math.Abs(d);
        string r = d.ToString("R", CultureInfo.InvariantCulture);
        if (abs != 0 && (abs < 1e-4 || abs >= 1e21))
        {
            if (!r.Contains('E', StringComparison.Ordinal)) { r = d.ToString("E16", CultureInfo.InvariantCulture); }
            int e = r.IndexOf('E', StringComparison.Ordinal);
            int exponent = int.Parse(r.AsSpan(e + 1), CultureInfo.InvariantCulture);
            return $"{r[..e]}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }
        return r.Contains('E', StringComparison.Ordinal) ? new System.Numerics.BigInteger(d).ToString(CultureInfo.InvariantCulture) : r;
    }

    /// <summary><c>fmt.Sprint</c>: spaces between operands when neither side is a string.</summary>
    public static string Sprint(IReadOnlyList<object?> args)
    {
        var text = new StringBuilder();
        for (int i = 0; i < args.Count; i++)
        {
            if (i > 0 && args[i] is not string && args[i - 1] is not string) { text.Append(' '); }
            text.Append(Print(args[i]));
        }
        return text.ToString();
    }

    /// <summary><c>fmt.Sprintln</c>: always spaces, and a newline.</summary>
    public static string Sprintln(IReadOnlyList<object?> args) => string.Join(" ", args.Select(Print)) + "\n";

    /// <summary>Go template truth: false, 0, nil, empty strings, slices and maps are false.</summary>
    public static bool IsTrue(object? value) => value switch
    {
        null or NoValue => false,
        bool b => b,
        string s => s.Length > 0,
        long l => l != 0,
        int i => i != 0,
        double d => d != 0,
        GoSlice slice => slice.Items.Count > 0,
        GoMap map => map.Entries.Count > 0,
        _ => true,
    };

    /// <summary>docker's <c>json</c> function: <c>json.Encoder</c> without HTML escaping, trailing newline removed.</summary>
    public static string Json(object? value)
    {
        string json = ToJson(value)?.ToJsonString(Compact) ?? "null";
        // A formatter context marshals itself with json.Marshal, which escapes <, > and & (the only place they can be is in strings).
        return value is ITemplateObject
            ? json.Replace("<", "\\u003c", StringComparison.Ordinal).Replace(">", "\\u003e", StringComparison.Ordinal).Replace("&", "\\u0026", StringComparison.Ordinal)
            : json;
    }

    public static JsonNode? ToJson(object? value) => value switch
    {
        null or NoValue => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create(i),
        double d => JsonValue.Create(d),
        GoSlice { IsNil: true } or GoMap { IsNil: true } => null,
        GoSlice slice => new JsonArray([.. slice.Items.Select(ToJson)]),
        GoMap map => new JsonObject(map.Entries.Select(e => KeyValuePair.Create(e.Key, ToJson(e.Value)))),
        ITemplateObject o => o.ToJson(),
        GoTime t => JsonValue.Create(t.Json),
        JsonNode node => node.DeepClone(),
        _ => JsonValue.Create(value.ToString()),
    };

    /// <summary>
    /// A JSON document as docker's inspect fallback reads it (<c>map[string]interface{}</c>): objects are maps, arrays
    /// slices, integers int64, null a nil interface.
    /// </summary>
    public static object? FromJson(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => new GoMap([.. o.Select(p => KeyValuePair.Create(p.Key, FromJson(p.Value)))]),
        JsonArray a => new GoSlice([.. a.Select(FromJson)]),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        JsonValue v when v.TryGetValue(out long l) => l,
        JsonValue v when v.TryGetValue(out double d) => d,
        _ => node.ToJsonString(),
    };

    /// <summary>The Go type name errors use for a value.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "interface {}",
        string => "string",
        bool => "bool",
        long or int => "int",
        double => "float64",
        GoSlice => "[]interface {}",
        GoMap m => m.TypeName,
        ITemplateObject o => o.TypeName,
        GoTime => "time.Time",
        _ => value.GetType().Name,
    };
}
