using System.Text.Encodings.Web;
using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Registry.Client;
using Dbuild.Solver;

namespace Dbuild.Cli.Manifests;

/// <summary>
/// buildx's <c>imagetools create</c>: the manifests of every source (an index contributes its entries, an image its own
/// manifest with its config's platform), duplicates dropped, written as buildx writes them
/// (<c>json.MarshalIndent(index, "", "  ")</c>; descriptors as mediaType, digest, size, platform): a Docker manifest
/// list when every entry is a Docker manifest, else an OCI index.
/// </summary>
internal sealed class ImagetoolsIndex(RegistryClient client)
{
    public async Task<IReadOnlyList<IndexSource>> ResolveAsync(Reference source, CancellationToken cancellationToken)
    {
        ManifestResponse response = await client.GetManifestAsync(source.Registry, source.Repository, source.ManifestReference, cancellationToken);
        if (MediaTypes.IsIndex(response.MediaType))
        {
            // Platforms are copied as written (the parsed model normalises arm64/v8 to arm64; buildx keeps the source's words).
            using JsonDocument document = JsonDocument.Parse(response.Content);
            JsonElement[] raw = [.. document.RootElement.GetProperty("manifests").EnumerateArray()];
            IReadOnlyList<Descriptor> manifests = ImageIndex.Parse(response.Content.Span).Manifests;
            return [.. manifests.Select((d, i) => new IndexSource(source, d.MediaType, d.Digest, d.Size,
                raw[i].TryGetProperty("platform", out JsonElement p) ? ListPlatform.FromJson(p) : null))];
        }
        ManifestListEntry image = await new RemoteImages(client).FetchImageAsync(source, cancellationToken);
        return [new IndexSource(source, image.MediaType, image.Digest, image.Size, image.Platform)];
    }

    public static (string MediaType, byte[] Content) Write(IReadOnlyList<IndexSource> sources)
    {
        IndexSource[] entries = [.. sources.DistinctBy(s => s.Digest)];
        string mediaType = entries.All(e => e.MediaType is MediaTypes.DockerManifest or MediaTypes.DockerManifestList) ? MediaTypes.DockerManifestList : MediaTypes.OciIndex;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, IndentSize = 2, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", 2);
            json.WriteString("mediaType", mediaType);
            json.WriteStartArray("manifests");
            foreach (IndexSource entry in entries)
            {
                json.WriteStartObject();
                json.WriteString("mediaType", entry.MediaType);
                json.WriteString("digest", entry.Digest.ToString());
                json.WriteNumber("size", entry.Size);
                if (entry.Platform is { } platform)
                {
                    json.WriteStartObject("platform");
                    json.WriteString("architecture", platform.Architecture);
                    json.WriteString("os", platform.Os);
                    if (platform.OsVersion is { Length: > 0 } version) { json.WriteString("os.version", version); }
                    if (platform.OsFeatures.Count > 0)
                    {
                        json.WriteStartArray("os.features");
                        foreach (string feature in platform.OsFeatures) { json.WriteStringValue(feature); }
                        json.WriteEndArray();
                    }
                    if (platform.Variant is { Length: > 0 } variant) { json.WriteString("variant", variant); }
                    json.WriteEndObject();
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return (mediaType, buffer.ToArray());
    }

    /// <summary>Copies every entry's manifest (and blobs) into <paramref name="target"/>'s repository, then pushes the index under its tag.</summary>
    public async Task<Digest> PushAsync(IReadOnlyList<IndexSource> sources, string mediaType, byte[] content, Reference target, CancellationToken cancellationToken)
    {
        var remote = new RemoteImages(client);
        foreach (IndexSource source in sources.DistinctBy(s => s.Digest))
        {
            if (source.Repository.Registry == target.Registry && source.Repository.Repository == target.Repository) { continue; }
            ManifestResponse manifest = await client.GetManifestAsync(source.Repository.Registry, source.Repository.Repository, source.Digest.ToString(), cancellationToken);
            if (manifest.Digest != source.Digest) { throw new BuildException($"{source.Repository}: manifest {source.Digest} came back as {manifest.Digest}."); }
            await remote.CopyManifestAsync(source.Repository, manifest.MediaType, manifest.Content, target, cancellationToken);
        }
        return await client.PushManifestAsync(target.Registry, target.Repository, target.ManifestReference, new ManifestUpload(mediaType, content), cancellationToken);
    }
}
