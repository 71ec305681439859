using System.Text.Json.Nodes;
using Dbuild.Oci;

namespace Dbuild.Solver.Store;

/// <summary>
/// <c>dbuild save</c>: the docker-archive that <c>docker load</c> reads, as docker 20.10's save writes it: each layer's
/// uncompressed tar as <c>DIFFID/layer.tar</c>, the config as <c>ID.json</c>, then <c>manifest.json</c> (config, names,
/// layers per image) and <c>repositories</c>. Layers stream from the store, decompressed twice (once to learn the
/// size the tar header needs and check the diffID, once into the archive), so memory never grows with a layer.
/// </summary>
public sealed class DockerArchiveWriter(LocalImages images)
{
    /// <summary>Writes <paramref name="items"/> to <paramref name="output"/> (left open).</summary>
    public async Task WriteAsync(IReadOnlyList<SaveItem> items, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var tar = new ArchiveTarWriter(output);
        var written = new HashSet<string>(StringComparer.Ordinal);
        var manifest = new JsonArray();
        var repositories = new JsonObject();
        foreach (SaveItem item in items)
        {
            (ImageManifest image, ImageConfig config) = await images.ReadImageAsync(item.Image.Manifest, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<Digest> diffIds = config.RootFs.DiffIds;
            if (diffIds.Count != image.Layers.Count)
            {
                throw new BuildException($"{item.Image.ImageId} has {image.Layers.Count} layers but its config lists {diffIds.Count} diff_ids; docker load would refuse it.");
            }
            var layers = new JsonArray();
            for (int i = 0; i < diffIds.Count; i++)
            {
                string directory = diffIds[i].Encoded;
                layers.Add(directory + "/layer.tar");
                if (!written.Add(directory)) { continue; }
                long size = await LayerDiffs.MeasureAsync(images.Store, image.Layers[i], diffIds[i], cancellationToken).ConfigureAwait(false);
                await tar.WriteDirectoryAsync(directory, cancellationToken).ConfigureAwait(false);
                await tar.WriteFileAsync(directory + "/VERSION", "1.0"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                Stream content = await LayerDiffs.OpenAsync(images.Store, image.Layers[i], cancellationToken).ConfigureAwait(false);
                await using (content.ConfigureAwait(false))
                {
                    await tar.WriteFileAsync(directory + "/layer.tar", size, content, cancellationToken).ConfigureAwait(false);
                }
            }
            string configName = image.Config.Digest.Encoded + ".json";
            if (written.Add(configName))
            {
                await tar.WriteFileAsync(configName, config.ToJsonBytes(), cancellationToken).ConfigureAwait(false);
            }
            var tags = item.Names.Select(ImageRemover.Familiar).ToList();
            manifest.Add(new JsonObject
            {
                ["Config"] = configName,
                ["RepoTags"] = tags.Count == 0 ? null : new JsonArray([.. tags.Select(t => (JsonNode)JsonValue.Create(t))]),
                ["Layers"] = layers,
            });
            foreach (string name in item.Names)
            {
                if (diffIds.Count == 0 || !Reference.TryParse(name, out Reference? reference, out _)) { continue; }
                string repository = reference.FamiliarRepository;
                if (repositories[repository] is not JsonObject tagsOfRepository) { repositories[repository] = tagsOfRepository = []; }
                tagsOfRepository[reference.Tag ?? Reference.DefaultTag] = diffIds[^1].Encoded;
            }
        }
        await tar.WriteFileAsync("manifest.json", System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString()), cancellationToken).ConfigureAwait(false);
        if (repositories.Count > 0)
        {
            await tar.WriteFileAsync("repositories", System.Text.Encoding.UTF8.GetBytes(repositories.ToJsonString()), cancellationToken).ConfigureAwait(false);
        }
        await tar.FinishAsync(cancellationToken).ConfigureAwait(false);
    }
}
