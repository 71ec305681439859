using System.Globalization;
using System.Text.Json.Nodes;

namespace Dbuild.Cli.Formatting;

/// <summary>
/// A Go struct value: fields in declaration order, printed <c>{v1 v2 …}</c>, marshalled as the JSON it was made from.
/// An unknown field is an error naming <see cref="TypeName"/>.
/// </summary>
internal sealed class GoStruct(string typeName, IReadOnlyList<KeyValuePair<string, object?>> fields, JsonNode? json) : ITemplateObject
{
    public string TypeName { get; } = typeName;

    public IReadOnlyList<KeyValuePair<string, object?>> Fields { get; } = fields;

    public bool TryGetField(string name, out object? value)
    {
        foreach (KeyValuePair<string, object?> field in Fields)
        {
            if (field.Key == name) { value = field.Value; return true; }
        }
        value = null;
        return false;
    }

    public JsonNode ToJson() => json?.DeepClone() ?? new JsonObject();

    public override string ToString() => "{" + string.Join(" ", Fields.Select(f => GoFormat.Print(f.Value))) + "}";
}

/// <summary>A Go <c>time.Time</c>: prints <c>2026-12-02 22:30:26.861341672 +0000 UTC</c>, marshals as RFC 3339.</summary>
internal sealed class GoTime(string rfc3339)
{
    public string Json { get; } = rfc3339;

    public override string ToString()
    {
        if (!DateTimeOffset.TryParse(Json, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTimeOffset time)) { return Json; }
        int dot = Json.IndexOf('.', StringComparison.Ordinal);
        string fraction = "";
        if (dot >= 0)
        {
            int end = dot + 1;
            while (end < Json.Length && char.IsAsciiDigit(Json[end])) { end++; }
            fraction = Json[dot..end];
        }
        string offset = time.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "", StringComparison.Ordinal);
        return time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + fraction + " " + offset + (time.Offset == TimeSpan.Zero ? " UTC" : "");
    }
}
