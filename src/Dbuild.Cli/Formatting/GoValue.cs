using System.Text.Json.Nodes;

namespace Dbuild.Cli.Formatting;

/// <summary>
/// A struct-like value a template reads fields of (docker's formatter contexts such as <c>*formatter.imageContext</c>):
/// an unknown field is an error naming <see cref="TypeName"/>, as Go's reflection on a struct makes it.
/// </summary>
internal interface ITemplateObject
{
    /// <summary>The Go type name an error names, e.g. <c>*formatter.imageContext</c>.</summary>
    string TypeName { get; }

    bool TryGetField(string name, out object? value);

    /// <summary>What <c>{{json .}}</c> writes for it.</summary>
    JsonNode ToJson();
}

/// <summary>A Go map or struct read from JSON: fields in order (for <c>json</c>), printed as <c>map[k:v]</c> with sorted keys.</summary>
internal sealed class GoMap(IReadOnlyList<KeyValuePair<string, object?>> entries, bool isNil = false)
{
    public static readonly GoMap Nil = new([], isNil: true);

    /// <summary>What <c>index</c> gives for a missing key: the element type's zero value (nil for interface{}).</summary>
    public object? Zero { get; init; }

    /// <summary>The Go type name errors use.</summary>
    public string TypeName { get; init; } = "map[string]interface {}";

    public IReadOnlyList<KeyValuePair<string, object?>> Entries { get; } = entries;

    /// <summary>A nil Go map: prints <c>map[]</c>, is false, marshals as <c>null</c>.</summary>
    public bool IsNil { get; } = isNil;

    public bool TryGet(string key, out object? value)
    {
        foreach (KeyValuePair<string, object?> entry in Entries)
        {
            if (entry.Key == key) { value = entry.Value; return true; }
        }
        value = null;
        return false;
    }

    public IEnumerable<KeyValuePair<string, object?>> Sorted => Entries.OrderBy(e => e.Key, StringComparer.Ordinal);
}

/// <summary>A Go slice: prints <c>[a b]</c>; a nil one prints <c>[]</c> and marshals as <c>null</c>.</summary>
internal sealed class GoSlice(IReadOnlyList<object?> items, bool isNil = false)
{
    public static readonly GoSlice Nil = new([], isNil: true);

    public IReadOnlyList<object?> Items { get; } = items;

    public bool IsNil { get; } = isNil;
}

/// <summary>Go's invalid reflect value: a missing map key. Prints <c>&lt;no value&gt;</c>.</summary>
internal sealed class NoValue
{
    public static readonly NoValue Instance = new();

    private NoValue() { }

    public override string ToString() => "<no value>";
}
