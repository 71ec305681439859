using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dbuild.Cli.Commands;

/// <summary>
/// An image as <c>docker image inspect</c> shows it (<c>types.ImageInspect</c>): its fields in docker's order, the
/// config's <c>config</c> and <c>container_config</c> as docker's <c>container.Config</c> struct marshals them.
/// </summary>
internal static class ImageInspectJson
{
    /// <summary>container.Config's fields in order; true where the field is <c>omitempty</c>.</summary>
    private static readonly (string Name, bool OmitEmpty, JsonValueKind Kind)[] ContainerConfigFields =
    [
        ("Hostname", false, JsonValueKind.String), ("Domainname", false, JsonValueKind.String), ("User", false, JsonValueKind.String),
        ("AttachStdin", false, JsonValueKind.False), ("AttachStdout", false, JsonValueKind.False), ("AttachStderr", false, JsonValueKind.False),
        ("ExposedPorts", true, JsonValueKind.Object), ("Tty", false, JsonValueKind.False), ("OpenStdin", false, JsonValueKind.False),
        ("StdinOnce", false, JsonValueKind.False), ("Env", false, JsonValueKind.Array), ("Cmd", false, JsonValueKind.Array),
        ("Healthcheck", true, JsonValueKind.Object), ("ArgsEscaped", true, JsonValueKind.False), ("Image", false, JsonValueKind.String),
        ("Volumes", false, JsonValueKind.Object), ("WorkingDir", false, JsonValueKind.String), ("Entrypoint", false, JsonValueKind.Array),
        ("NetworkDisabled", true, JsonValueKind.False), ("MacAddress", true, JsonValueKind.String), ("OnBuild", false, JsonValueKind.Array),
        ("Labels", false, JsonValueKind.Object), ("StopSignal", true, JsonValueKind.String), ("StopTimeout", true, JsonValueKind.Number),
        ("Shell", true, JsonValueKind.Array),
    ];

    public static JsonObject Build(ImageSummary image, JsonObject config)
    {
        var json = new JsonObject
        {
            ["Id"] = image.Id.ToString(),
            ["RepoTags"] = new JsonArray([.. image.RepoTags.Select(t => (JsonNode)t.FamiliarName)]),
            ["RepoDigests"] = new JsonArray([.. image.RepoDigests.Select(d => (JsonNode)d.FamiliarName)]),
            ["Parent"] = "",
            ["Comment"] = Comment(config),
            ["Created"] = Created(config["created"]),
            ["Container"] = String(config, "container"),
            ["ContainerConfig"] = ContainerConfig(config["container_config"] as JsonObject ?? []),
            ["DockerVersion"] = String(config, "docker_version"),
            ["Author"] = String(config, "author"),
            ["Config"] = config["config"] is JsonObject c ? ContainerConfig(c) : null,
            ["Architecture"] = String(config, "architecture"),
        };
        if (String(config, "variant") is { Length: > 0 } variant) { json["Variant"] = variant; }
        json["Os"] = String(config, "os");
        if (String(config, "os.version") is { Length: > 0 } osVersion) { json["OsVersion"] = osVersion; }
        json["Size"] = image.Size;
        json["VirtualSize"] = image.Size;
        json["GraphDriver"] = new JsonObject { ["Data"] = null, ["Name"] = "" }; // dbuild keeps layers as blobs, not in a graph driver
        json["RootFS"] = new JsonObject
        {
            ["Type"] = config["rootfs"]?["type"]?.DeepClone() ?? "layers",
            ["Layers"] = config["rootfs"]?["diff_ids"]?.DeepClone() ?? new JsonArray(),
        };
        json["Metadata"] = new JsonObject { ["LastTagTime"] = "0001-01-01T00:00:00Z" };
        return json;
    }

    /// <summary>The config's comment, else (as dockerd does) the comment of its last history entry.</summary>
    private static string Comment(JsonObject config) =>
        String(config, "comment") is { Length: > 0 } comment ? comment
        : config["history"] is JsonArray { Count: > 0 } history && history[^1] is JsonObject last ? String(last, "comment") : "";

    private static string String(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "";

    /// <summary>Go's time marshalling (RFC 3339 with nanoseconds, trailing zeros dropped); the zero time when absent.</summary>
    private static string Created(JsonNode? created)
    {
        if (created is not JsonValue v || v.GetValueKind() != JsonValueKind.String) { return "0001-01-01T00:00:00Z"; }
        string text = v.GetValue<string>();
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTimeOffset time)) { return text; }
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        string fraction = "";
        if (dot >= 0)
        {
            int end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end])) { end++; }
            fraction = text[dot..end].TrimEnd('0');
            if (fraction == ".") { fraction = ""; }
        }
        string zone = time.Offset == TimeSpan.Zero ? "Z" : time.ToString("zzz", CultureInfo.InvariantCulture);
        return time.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + fraction + zone;
    }

    /// <summary>docker's container.Config from an OCI config's <c>config</c>: every field, keys matched case-insensitively, maps sorted.</summary>
    private static JsonObject ContainerConfig(JsonObject source)
    {
        var result = new JsonObject();
        foreach ((string name, bool omitEmpty, JsonValueKind kind) in ContainerConfigFields)
        {
            JsonNode? value = source.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.DeepClone();
            if (value is JsonValue s && kind == JsonValueKind.Array && s.GetValueKind() == JsonValueKind.String) { value = new JsonArray(s.GetValue<string>()); } // strslice
            if (value is JsonObject map && name is "Labels" or "ExposedPorts" or "Volumes") { value = new JsonObject(map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))); }
            if (omitEmpty && (name is "Healthcheck" or "StopTimeout" ? value is null : IsEmpty(value))) { continue; } // pointers: omitted only when nil
            result[name] = value ?? kind switch
            {
                JsonValueKind.String => "",
                JsonValueKind.False => false,
                _ => null,
            };
        }
        return result;
    }

    private static bool IsEmpty(JsonNode? value) => value switch
    {
        null => true,
        JsonObject o => o.Count == 0,
        JsonArray a => a.Count == 0,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>().Length == 0,
            JsonValueKind.False => true,
            JsonValueKind.Number => v.ToJsonString() == "0",
            _ => false,
        },
        _ => false,
    };
}
