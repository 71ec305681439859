using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Oci;
using Dbuild.Solver;

namespace Dbuild.Cli.Manifests;

/// <summary>
/// Manifest lists made by <c>dbuild manifest create</c>, kept until pushed or removed, as docker keeps them under
/// ~/.docker/manifests: here <c>STATE/manifests/LIST/IMAGE.json</c>, names made file-safe as docker does
/// (<c>:</c> → <c>-</c>, <c>/</c> → <c>_</c>), one file per image holding its manifest bytes and listed platform.
/// </summary>
internal sealed class LocalManifestLists(string stateRoot)
{
    private readonly string _root = Path.Combine(stateRoot, "manifests");

    public bool Exists(Reference list) => Directory.Exists(ListDirectory(list));

    public IReadOnlyList<ManifestListEntry> Read(Reference list)
    {
        string directory = ListDirectory(list);
        if (!Directory.Exists(directory)) { throw new BuildException($"No such manifest: {list}"); }
        return [.. Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal).Select(ReadEntry)];
    }

    public void Write(Reference list, ManifestListEntry entry)
    {
        string directory = ListDirectory(list);
        Directory.CreateDirectory(directory);
        var json = new JsonObject
        {
            ["ref"] = entry.Source.ToString(),
            ["mediaType"] = entry.MediaType,
            ["platform"] = new JsonObject
            {
                ["architecture"] = entry.Platform.Architecture,
                ["os"] = entry.Platform.Os,
                ["os.version"] = entry.Platform.OsVersion,
                ["os.features"] = new JsonArray([.. entry.Platform.OsFeatures.Select(f => JsonValue.Create(f))]),
                ["variant"] = entry.Platform.Variant,
            },
            ["raw"] = Convert.ToBase64String(entry.Raw),
        };
        string path = Path.Combine(directory, FileSafe(entry.Source) + ".json");
        string temp = path + ".tmp";
        File.WriteAllText(temp, json.ToJsonString());
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Deletes a list; false when there was none.</summary>
    public bool Remove(Reference list)
    {
        string directory = ListDirectory(list);
        if (!Directory.Exists(directory)) { return false; }
        Directory.Delete(directory, recursive: true);
        return true;
    }

    private string ListDirectory(Reference list) => Path.Combine(_root, FileSafe(list));

    private static string FileSafe(Reference reference) => reference.ToString().Replace(':', '-').Replace('/', '_');

    private static ManifestListEntry ReadEntry(string path)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = document.RootElement;
            return new ManifestListEntry(Reference.Parse(root.GetProperty("ref").GetString()!), root.GetProperty("mediaType").GetString()!,
                Convert.FromBase64String(root.GetProperty("raw").GetString()!), ListPlatform.FromJson(root.GetProperty("platform")));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            throw new BuildException($"{path}: not a dbuild manifest list entry ({ex.Message}); remove the list with 'dbuild manifest rm'.", ex);
        }
    }
}
