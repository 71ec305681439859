using System.Formats.Tar;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dbuild.IntegrationTests.Differential;

/// <summary>
/// What the differential suite compares of one image, read from an image tar: a docker-archive (<c>docker save</c>,
/// manifest.json + config + layer tars) or an OCI layout tar (index.json → manifest → blobs).
/// </summary>
internal sealed record ImageSnapshot(SortedDictionary<string, string> Fields, IReadOnlyList<string> History, int LayerCount,
    SortedDictionary<string, string> Files, IReadOnlyList<SortedDictionary<string, string>> LayerContents)
{
    /// <summary>The config fields BuildKit writes from Dockerfile instructions.</summary>
    public static readonly IReadOnlyList<string> ConfigFields =
        ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes", "StopSignal", "Healthcheck", "Shell", "OnBuild"];

    public static async Task<ImageSnapshot> LoadAsync(string imageTar, string scratch, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(scratch);
        await TarFile.ExtractToDirectoryAsync(imageTar, scratch, overwriteFiles: true, cancellationToken);
        (string configPath, List<string> layerPaths) = File.Exists(Path.Combine(scratch, "manifest.json"))
            ? FromDockerArchive(scratch) : FromOciLayout(scratch);
        JsonNode config = JsonNode.Parse(await File.ReadAllBytesAsync(configPath, cancellationToken))!;

        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal);
        JsonObject? c = config["config"] as JsonObject;
        foreach (string field in ConfigFields)
        {
            // Absent and null are the same thing to a runtime; [] and {} are not always, so they stay visible.
            fields[field] = c?[field] is { } value ? Canonical(value) : "null";
        }
        fields["author"] = config["author"] is { } author ? Canonical(author) : "null";
        var history = new List<string>();
        foreach (JsonNode? h in config["history"] as JsonArray ?? [])
        {
            string createdBy = h?["created_by"]?.GetValue<string>() ?? "";
            bool empty = h?["empty_layer"]?.GetValue<bool>() ?? false;
            history.Add((empty ? "(empty) " : "") + createdBy);
        }
        int diffIds = (config["rootfs"]?["diff_ids"] as JsonArray)?.Count ?? 0;
        if (diffIds != layerPaths.Count)
        {
            throw new InvalidDataException($"{imageTar}: the manifest lists {layerPaths.Count} layers but rootfs.diff_ids has {diffIds}");
        }

        var tree = new FileTree();
        for (int i = 0; i < layerPaths.Count; i++)
        {
            await using FileStream blob = File.OpenRead(layerPaths[i]);
            await tree.ApplyLayerAsync(blob, i, cancellationToken);
        }
        return new ImageSnapshot(fields, history, layerPaths.Count, tree.Describe(), tree.LayerEntries);
    }

    private static (string ConfigPath, List<string> LayerPaths) FromDockerArchive(string root)
    {
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(root, "manifest.json")));
        JsonElement image = manifest.RootElement[0];
        return (Path.Combine(root, image.GetProperty("Config").GetString()!),
            [.. image.GetProperty("Layers").EnumerateArray().Select(l => Path.Combine(root, l.GetString()!))]);
    }

    private static (string ConfigPath, List<string> LayerPaths) FromOciLayout(string root)
    {
        using JsonDocument index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(root, "index.json")));
        string digest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        while (true)
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(Blob(root, digest)));
            if (document.RootElement.TryGetProperty("manifests", out JsonElement nested))
            {
                digest = nested[0].GetProperty("digest").GetString()!; // a nested index: this machine's platform is the only one
                continue;
            }
            return (Blob(root, document.RootElement.GetProperty("config").GetProperty("digest").GetString()!),
                [.. document.RootElement.GetProperty("layers").EnumerateArray().Select(l => Blob(root, l.GetProperty("digest").GetString()!))]);
        }
    }

    private static string Blob(string root, string digest) => Path.Combine(root, "blobs", digest.Replace(':', '/'));

    /// <summary>JSON with object keys sorted, so key order never counts as a difference.</summary>
    private static string Canonical(JsonNode node) => Sort(node)!.ToJsonString();

    private static JsonNode? Sort(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Sort)]),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>Every difference, each naming the path or field: "expected" is BuildKit's, "actual" dbuild's.</summary>
    public static List<string> Compare(ImageSnapshot expected, ImageSnapshot actual)
    {
        var differences = new List<string>();
        if (expected.LayerCount != actual.LayerCount) { differences.Add($"layer count: BuildKit {expected.LayerCount}, dbuild {actual.LayerCount}"); }
        foreach ((string field, string value) in expected.Fields)
        {
            string other = actual.Fields[field];
            if (value != other) { differences.Add($"config {field}: BuildKit {value}, dbuild {other}"); }
        }
        if (!expected.History.SequenceEqual(actual.History))
        {
            differences.Add("history differs:\n    BuildKit: " + string.Join("\n              ", expected.History)
                + "\n    dbuild:   " + string.Join("\n              ", actual.History));
        }
        differences.AddRange(CompareTrees(expected.Files, actual.Files, "BuildKit"));
        if (differences.Count == 0)
        {
            // Same final tree: each layer must also hold the same entries (what BuildKit puts in a step's diff).
            for (int i = 0; i < expected.LayerContents.Count; i++)
            {
                differences.AddRange(CompareTrees(expected.LayerContents[i], actual.LayerContents[i], "BuildKit").Select(d => $"layer {i + 1}: {d}"));
            }
        }
        return differences;
    }

    /// <summary>Path by path: missing, extra, or different lines.</summary>
    public static IEnumerable<string> CompareTrees(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string> actual, string expectedName)
    {
        foreach ((string path, string line) in expected)
        {
            if (!actual.TryGetValue(path, out string? other)) { yield return $"{path}: missing in dbuild ({expectedName}: {line})"; }
            else if (other != line) { yield return $"{path}: {expectedName} {line} | dbuild {other}"; }
        }
        foreach ((string path, string line) in actual)
        {
            if (!expected.ContainsKey(path)) { yield return $"{path}: only in dbuild ({line})"; }
        }
    }
}
