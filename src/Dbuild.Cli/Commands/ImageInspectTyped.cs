using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Cli.Formatting;

namespace Dbuild.Cli.Commands;

/// <summary>
/// The inspect JSON as docker's CLI first runs a template over it: its Go types (<c>types.ImageInspect</c>,
/// <c>container.Config</c>, …), so a nil slice prints <c>[]</c>, a missing label indexes as <c>""</c>, <c>.RootFS</c>
/// prints as a struct and <c>.Metadata.LastTagTime</c> as a time. When that fails docker runs the template again over the
/// plain JSON (<see cref="GoFormat.FromJson"/>).
/// </summary>
internal static class ImageInspectTyped
{
    private enum Kind { String, Bool, Int, Strings, StringMap, SetMap, Config, Health, IntPointer, Time, GraphDriver, RootFs, Metadata }

    private static readonly (string Name, Kind Kind)[] Image =
    [
        ("Id", Kind.String), ("RepoTags", Kind.Strings), ("RepoDigests", Kind.Strings), ("Parent", Kind.String), ("Comment", Kind.String),
        ("Created", Kind.String), ("Container", Kind.String), ("ContainerConfig", Kind.Config), ("DockerVersion", Kind.String),
        ("Author", Kind.String), ("Config", Kind.Config), ("Architecture", Kind.String), ("Variant", Kind.String), ("Os", Kind.String),
        ("OsVersion", Kind.String), ("Size", Kind.Int), ("VirtualSize", Kind.Int), ("GraphDriver", Kind.GraphDriver),
        ("RootFS", Kind.RootFs), ("Metadata", Kind.Metadata),
    ];

    private static readonly (string Name, Kind Kind)[] Config =
    [
        ("Hostname", Kind.String), ("Domainname", Kind.String), ("User", Kind.String), ("AttachStdin", Kind.Bool), ("AttachStdout", Kind.Bool),
        ("AttachStderr", Kind.Bool), ("ExposedPorts", Kind.SetMap), ("Tty", Kind.Bool), ("OpenStdin", Kind.Bool), ("StdinOnce", Kind.Bool),
        ("Env", Kind.Strings), ("Cmd", Kind.Strings), ("Healthcheck", Kind.Health), ("ArgsEscaped", Kind.Bool), ("Image", Kind.String),
        ("Volumes", Kind.SetMap), ("WorkingDir", Kind.String), ("Entrypoint", Kind.Strings), ("NetworkDisabled", Kind.Bool),
        ("MacAddress", Kind.String), ("OnBuild", Kind.Strings), ("Labels", Kind.StringMap), ("StopSignal", Kind.String),
        ("StopTimeout", Kind.IntPointer), ("Shell", Kind.Strings),
    ];

    private static readonly (string Name, Kind Kind)[] Health = [("Test", Kind.Strings), ("Interval", Kind.Int), ("Timeout", Kind.Int), ("StartPeriod", Kind.Int), ("Retries", Kind.Int)];

    private static readonly GoStruct Empty = new("struct {}", [], new JsonObject());

    public static GoStruct Build(JsonObject inspect) => Struct("types.ImageInspect", Image, inspect);

    private static GoStruct Struct(string typeName, (string Name, Kind Kind)[] fields, JsonObject json) =>
        new(typeName, [.. fields.Select(f => KeyValuePair.Create(f.Name, Value(f.Kind, json[f.Name])))], json);

    private static object? Value(Kind kind, JsonNode? node) => kind switch
    {
        Kind.String => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "",
        Kind.Bool => node is JsonValue v && v.GetValueKind() == JsonValueKind.True,
        Kind.Int => node is JsonValue v && v.TryGetValue(out long l) ? l : 0L,
        Kind.IntPointer => node is JsonValue v && v.TryGetValue(out long l) ? l : null,
        Kind.Strings => node is JsonArray a ? new GoSlice([.. a.Select(i => (object?)(i?.GetValue<string>() ?? ""))]) : GoSlice.Nil,
        Kind.StringMap => Map(node, e => e?.GetValue<string>() ?? "", "", "map[string]string"),
        Kind.SetMap => Map(node, _ => Empty, Empty, "map[string]struct {}"),
        Kind.Config => node is JsonObject o ? Struct("container.Config", Config, o) : null,
        Kind.Health => node is JsonObject o ? Struct("container.HealthConfig", Health, o) : null,
        Kind.Time => node is JsonValue v ? new GoTime(v.GetValue<string>()) : new GoTime("0001-01-01T00:00:00Z"),
        Kind.GraphDriver => node is JsonObject o
            ? new GoStruct("types.GraphDriverData", [KeyValuePair.Create("Data", (object?)Map(o["Data"], e => e?.GetValue<string>() ?? "", "", "map[string]string")), KeyValuePair.Create("Name", Value(Kind.String, o["Name"]))], o)
            : null,
        Kind.RootFs => node is JsonObject o
            ? new GoStruct("types.RootFS", [KeyValuePair.Create("Type", Value(Kind.String, o["Type"])), KeyValuePair.Create("Layers", Value(Kind.Strings, o["Layers"])), KeyValuePair.Create("BaseLayer", Value(Kind.String, o["BaseLayer"]))], o)
            : null,
        Kind.Metadata => node is JsonObject o ? new GoStruct("types.ImageMetadata", [KeyValuePair.Create("LastTagTime", Value(Kind.Time, o["LastTagTime"]))], o) : null,
        _ => null,
    };

    private static GoMap Map(JsonNode? node, Func<JsonNode?, object?> element, object? zero, string typeName) => node is JsonObject o
        ? new GoMap([.. o.Select(p => KeyValuePair.Create(p.Key, element(p.Value)))]) { Zero = zero, TypeName = typeName }
        : new GoMap([], isNil: true) { Zero = zero, TypeName = typeName };
}
