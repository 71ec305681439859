using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dbuild.Oci.Layers;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// What differential tests compare, read from a <c>docker save</c>-shaped tar (dbuild's type=docker output has the
/// same manifest.json): the config fields BuildKit sets, the history, the layer count, and the merged file tree
/// (type, mode, uid, gid, size, content hash, link target; never mtimes).
/// </summary>
internal sealed record ImageSummary(IReadOnlyDictionary<string, string> Config, IReadOnlyList<string> History, int LayerCount,
    IReadOnlyDictionary<string, string> Files)
{
    private static readonly string[] ConfigFields = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "StopSignal",
        "Healthcheck", "Shell", "OnBuild"];

    public static async Task<ImageSummary> LoadAsync(string dockerTar, string scratch, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(scratch);
        await TarFile.ExtractToDirectoryAsync(dockerTar, scratch, overwriteFiles: true, cancellationToken);
        using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scratch, "manifest.json"), cancellationToken));
        JsonElement entry = manifest.RootElement[0];
        using JsonDocument config = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(scratch, entry.GetProperty(nameof(Config)).GetString()!), cancellationToken));
        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal);
        JsonElement c = config.RootElement.TryGetProperty("config", out JsonElement cc) ? cc : default;
        foreach (string field in ConfigFields)
        {
            string value = c.ValueKind == JsonValueKind.Object && c.TryGetProperty(field, out JsonElement v) && v.ValueKind != JsonValueKind.Null ? Canonical(v) : "";
            if (value is "[]" or "{}" or "\"\"") { value = ""; }
            fields[field] = value;
        }
        fields["architecture"] = config.RootElement.GetProperty("architecture").GetString() ?? "";
        fields["os"] = config.RootElement.GetProperty("os").GetString() ?? "";
        fields["author"] = config.RootElement.TryGetProperty("author", out JsonElement a) ? a.GetString() ?? "" : "";
        var history = new List<string>();
        if (config.RootElement.TryGetProperty("history", out JsonElement h))
        {
            foreach (JsonElement item in h.EnumerateArray())
            {
                string by = item.TryGetProperty("created_by", out JsonElement b) ? b.GetString() ?? "" : "";
                bool empty = item.TryGetProperty("empty_layer", out JsonElement e) && e.GetBoolean();
                history.Add(empty ? by + " (empty)" : by);
            }
        }
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var layers = entry.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToList();
        foreach (string layer in layers) { await ApplyLayerAsync(Path.Combine(scratch, layer), files, cancellationToken); }
        return new ImageSummary(fields, history, layers.Count, files);
    }

    private static async Task ApplyLayerAsync(string path, SortedDictionary<string, string> files, CancellationToken cancellationToken)
    {
        await using FileStream blob = File.OpenRead(path);
        await using Stream tar = await LayerReader.OpenDecompressedAsync(blob, cancellationToken: cancellationToken);
        using var reader = new TarReader(tar);
        var added = new List<(string Path, string Description)>();
        var removed = new List<string>();
        var opaque = new List<string>();
        while (await reader.GetNextEntryAsync(cancellationToken: cancellationToken) is { } e)
        {
            string name = Normalize(e.Name);
            if (name.Length == 0) { continue; }
            string file = name[(name.LastIndexOf('/') + 1)..];
            string parent = name.Contains('/', StringComparison.Ordinal) ? name[..name.LastIndexOf('/')] : "";
            if (file == ".wh..wh..opq") { opaque.Add(parent); continue; }
            if (file.StartsWith(".wh.", StringComparison.Ordinal)) { removed.Add((parent.Length > 0 ? parent + "/" : "") + file[4..]); continue; }
            string kind = e.EntryType switch
            {
                TarEntryType.Directory => "dir",
                TarEntryType.SymbolicLink => "symlink",
                TarEntryType.HardLink => "hardlink",
                _ => "file",
            };
            string content = "";
            if (kind == "file" && e.DataStream is { } data)
            {
                content = Convert.ToHexStringLower(await SHA256.HashDataAsync(data, cancellationToken))[..16];
            }
            string link = kind is "symlink" ? " -> " + e.LinkName : kind == "hardlink" ? " => " + Normalize(e.LinkName) : "";
            added.Add((name, $"{kind} {Convert.ToString((int)e.Mode & 0xFFF, 8)} {e.Uid}:{e.Gid} {(kind == "file" ? e.Length : 0)} {content}{link}"));
        }
        foreach (string dir in opaque) { foreach (string key in files.Keys.Where(k => k.StartsWith(dir + "/", StringComparison.Ordinal)).ToList()) { files.Remove(key); } }
        foreach (string gone in removed)
        {
            files.Remove(gone);
            foreach (string key in files.Keys.Where(k => k.StartsWith(gone + "/", StringComparison.Ordinal)).ToList()) { files.Remove(key); }
        }
        foreach ((string name, string description) in added) { files[name] = description; }
    }

    private static string Normalize(string name)
    {
        string n = name.Replace('\\', '/');
        while (n.StartsWith("./", StringComparison.Ordinal)) { n = n[2..]; }
        return n.Trim('/');
    }

    private static string Canonical(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            var sb = new StringBuilder("{");
            foreach (JsonProperty p in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal)) { sb.Append(p.Name).Append('=').Append(Canonical(p.Value)).Append(';'); }
            return sb.Append('}').ToString();
        }
        return value.GetRawText();
    }

    /// <summary>Lines describing every difference (config, history, layer count, files); empty when they match.</summary>
    public static IReadOnlyList<string> Differences(ImageSummary expected, ImageSummary actual, bool compareHistory = true)
    {
        var diffs = new List<string>();
        foreach (var (key, value) in expected.Config)
        {
            string other = actual.Config.GetValueOrDefault(key) ?? "";
            if (other != value) { diffs.Add($"config {key}: BuildKit {value} | dbuild {other}"); }
        }
        if (expected.LayerCount != actual.LayerCount) { diffs.Add($"layers: BuildKit {expected.LayerCount} | dbuild {actual.LayerCount}"); }
        if (compareHistory && !expected.History.SequenceEqual(actual.History))
        {
            diffs.Add("history: BuildKit [" + string.Join(" ; ", expected.History) + "] | dbuild [" + string.Join(" ; ", actual.History) + "]");
        }
        foreach (var (path, description) in expected.Files)
        {
            if (!actual.Files.TryGetValue(path, out string? other)) { diffs.Add($"only in BuildKit: {path} {description}"); }
            else if (other != description) { diffs.Add($"differs: {path}: BuildKit {description} | dbuild {other}"); }
        }
        foreach (var (path, description) in actual.Files)
        {
            if (!expected.Files.ContainsKey(path)) { diffs.Add($"only in dbuild: {path} {description}"); }
        }
        return diffs;
    }
}
