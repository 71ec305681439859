using System.Text.Encodings.Web;
using System.Text.Json;
using Dbuild.Oci;

namespace Dbuild.Cli.Manifests;

/// <summary>
/// A manifest list's bytes as the docker CLI writes them (Go's <c>json.MarshalIndent(list, "", "   ")</c> of
/// distribution's manifestlist: entries as mediaType, size, digest, platform), so the same inputs give the same digest.
/// A Docker manifest list, or an OCI index when any entry is an OCI manifest.
/// </summary>
internal static class ManifestListJson
{
    public static (string MediaType, byte[] Content) Write(IReadOnlyList<ManifestListEntry> entries)
    {
        string mediaType = entries.Any(e => e.MediaType == MediaTypes.OciManifest) ? MediaTypes.OciIndex : MediaTypes.DockerManifestList;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, IndentSize = 3, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", 2);
            json.WriteString("mediaType", mediaType);
            json.WriteStartArray("manifests");
            foreach (ManifestListEntry entry in entries)
            {
                json.WriteStartObject();
                json.WriteString("mediaType", entry.MediaType);
                json.WriteNumber("size", entry.Size);
                json.WriteString("digest", entry.Digest.ToString());
                json.WriteStartObject("platform");
                json.WriteString("architecture", entry.Platform.Architecture);
                json.WriteString("os", entry.Platform.Os);
                if (entry.Platform.OsVersion is { Length: > 0 } version) { json.WriteString("os.version", version); }
                if (entry.Platform.OsFeatures.Count > 0)
                {
                    json.WriteStartArray("os.features");
                    foreach (string feature in entry.Platform.OsFeatures) { json.WriteStringValue(feature); }
                    json.WriteEndArray();
                }
                if (entry.Platform.Variant is { Length: > 0 } variant) { json.WriteString("variant", variant); }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return (mediaType, buffer.ToArray());
    }
}
