using System.Text.Json.Nodes;
using Dbuild.Oci;

namespace Dbuild.Solver.Store;

/// <summary>
/// A <c>docker save</c> archive's <c>manifest.json</c> turned into a <see cref="LoadPlan"/>: per image its config (the image
/// ID is its digest, kept byte for byte), its layer tars (plain or compressed, each checked against the config's
/// diffID) and a Docker schema 2 manifest written for them, named by <c>RepoTags</c>.
/// </summary>
internal static class DockerArchivePlan
{
    public static async Task<LoadPlan> ReadAsync(ArchiveStaging staging, CancellationToken cancellationToken)
    {
        byte[] bytes = (await staging.ReadSmallAsync("manifest.json", cancellationToken).ConfigureAwait(false))!;
        JsonArray entries = ArchiveLoader.Parse(bytes, "manifest.json", b => JsonNode.Parse(b) as JsonArray)
            ?? throw new InvalidContentException("manifest.json in the archive is not a JSON array.");
        var plan = new LoadPlan();
        foreach (JsonNode? entry in entries)
        {
            string configName = entry?["Config"]?.GetValue<string>() ?? throw new InvalidContentException("An entry of manifest.json in the archive has no Config.");
            StagedFile configFile = staging.Find(configName) ?? throw Missing(configName);
            ImageConfig config = ImageConfig.Parse((await staging.ReadSmallAsync(configName, cancellationToken).ConfigureAwait(false))!);
            var layerNames = (entry["Layers"] as JsonArray ?? []).Select(l => l?.GetValue<string>() ?? "").ToList();
            IReadOnlyList<Digest> diffIds = config.RootFs.DiffIds;
            if (layerNames.Count != diffIds.Count)
            {
                throw new InvalidContentException($"manifest.json lists {layerNames.Count} layers for {configName}, whose rootfs has {diffIds.Count} diff_ids.");
            }
            var layers = new List<Descriptor>();
            for (int i = 0; i < layerNames.Count; i++)
            {
                StagedFile layer = staging.Find(layerNames[i]) ?? throw Missing(layerNames[i]);
                LayerCompression compression = await ArchiveLoader.CompressionOfAsync(layer, cancellationToken).ConfigureAwait(false);
                Digest diffId = compression == LayerCompression.None ? layer.Digest : await ArchiveLoader.DiffIdAsync(layer, cancellationToken).ConfigureAwait(false);
                if (diffId != diffIds[i])
                {
                    throw new InvalidContentException($"{layerNames[i]} in the archive is not the layer its config names: its tar is {diffId}, the config's diff_id is {diffIds[i]}. Nothing was loaded.");
                }
                string mediaType = MediaTypes.LayerType(compression, oci: false);
                layers.Add(new Descriptor(mediaType, layer.Digest, layer.Size));
                plan.Blobs.Add((layer, mediaType));
            }
            plan.Blobs.Add((configFile, MediaTypes.DockerConfig));
            byte[] manifest = new ImageManifest(MediaTypes.DockerManifest, new Descriptor(MediaTypes.DockerConfig, configFile.Digest, configFile.Size), layers).ToJsonBytes();
            plan.Documents.Add((manifest, MediaTypes.DockerManifest));
            var names = new List<Reference>();
            foreach (JsonNode? tag in entry["RepoTags"] as JsonArray ?? [])
            {
                string text = tag?.GetValue<string>() ?? "";
                names.Add(Reference.TryParse(text, out Reference? reference, out string? error) ? reference
                    : throw new InvalidContentException($"manifest.json in the archive names an image '{text}': {error}"));
            }
            plan.Images.Add((new Descriptor(MediaTypes.DockerManifest, Digest.Compute(manifest), manifest.Length), names));
        }
        return plan;
    }

    private static InvalidContentException Missing(string name) =>
        new($"manifest.json names {name}, which is not in the archive. Nothing was loaded.");
}
