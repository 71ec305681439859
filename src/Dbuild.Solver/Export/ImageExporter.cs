using System.Formats.Tar;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dbuild.Oci;
using Dbuild.Solver.Attestations;

using Dbuild.Solver.Cache;

using Dbuild.Solver.Frontend;

using Dbuild.Solver.Progress;

namespace Dbuild.Solver.Export;

/// <summary>
/// Turns a finished stage into an image (config + manifest in the store, tags in index.json) and writes the
/// requested outputs: registry push, OCI layout tar, docker-load tar, local directory, filesystem tar.
/// </summary>
internal sealed class ImageExporter(ContentStore store, BuilderOptions options, BuildRequest request, VertexTracker tracker, string tmp, LayerCompressor compressor,
    EarlyBlobPush? earlyPush = null, LazyBlobs? lazy = null, CacheExporter? inlineCache = null, Attestor? attestor = null)
{
    private System.Text.Json.JsonElement? _inline;

    public async Task<BuildResult> ExportAsync(StageState final, DateTimeOffset created, CancellationToken cancellationToken)
    {
        Vertex vertex = tracker.Start("exporting to image");
        try
        {
            bool oci = request.OciMediaTypes;
            List<LayerRef> layers = [.. await compressor.BlobsAsync(final.Chain, vertex.Log, cancellationToken).ConfigureAwait(false)];
            final.Layers.Clear();
            final.Layers.AddRange(layers);
            await EnsureStoredAsync(layers, cancellationToken).ConfigureAwait(false);
            if (inlineCache is not null)
            {
                _inline = JsonSerializer.SerializeToElement(await inlineCache.InlineIndexAsync(layers, cancellationToken).ConfigureAwait(false), SolverJson.Default.CacheIndex);
            }
            (Descriptor manifest, Digest configDigest) = await WriteImageAsync(final, created, oci, cancellationToken).ConfigureAwait(false);
            vertex.Log($"writing image {configDigest} done");
            (Dictionary<string, Digest> pushed, IReadOnlyList<Descriptor> referrers) = await PushAsync(vertex, manifest, final.Layers, cancellationToken).ConfigureAwait(false);
            foreach (BuildOutput output in request.Outputs)
            {
                switch (output.Type)
                {
                    case BuildOutputType.Oci or BuildOutputType.Docker:
                        {
                            bool ociTypes = output.OciMediaTypes ?? output.Type == BuildOutputType.Oci;
                            (Descriptor m, _) = ociTypes == oci ? (manifest, configDigest) : await WriteImageAsync(final, created, ociTypes, cancellationToken).ConfigureAwait(false);
                            await WriteArchiveAsync(output, m, await LayoutAttestationsAsync(output, m, manifest, referrers, vertex.Log, cancellationToken).ConfigureAwait(false),
                                cancellationToken).ConfigureAwait(false);
                            break;
                        }
                    case BuildOutputType.Local:
                        await FilesystemOutput.ExtractAsync(store, options, final.Layers, output.Destination!, cancellationToken).ConfigureAwait(false);
                        break;
                    case BuildOutputType.Tar:
                        {
                            string dir = Path.Combine(tmp, "export-rootfs");
                            await FilesystemOutput.ExtractAsync(store, options, final.Layers, dir, cancellationToken).ConfigureAwait(false);
                            await FilesystemOutput.WriteTarAsync(options, request, output, dir, cancellationToken).ConfigureAwait(false);
                            break;
                        }
                }
            }
            vertex.Done();
            return new BuildResult { ImageId = configDigest, Manifest = manifest, Pushed = pushed };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            vertex.Fail(ex.Message);
            throw;
        }
    }

    /// <summary>
    /// A multi-platform build's images under one index, as BuildKit's image exporter writes them: one manifest per
    /// platform (its config saying that platform), listed with their platforms in a Docker manifest list, or an OCI
    /// index with oci-mediatypes=true; the index is what gets tagged and pushed. type=oci writes the index into the
    /// layout; type=local and type=tar put each platform's filesystem in its own directory (<c>linux_amd64/</c>…).
    /// </summary>
    public async Task<BuildResult> ExportIndexAsync(IReadOnlyList<(Platform Platform, StageState Final)> images, DateTimeOffset created, CancellationToken cancellationToken)
    {
        Vertex vertex = tracker.Start("exporting to image");
        try
        {
            bool oci = request.OciMediaTypes;
            var notes = new HashSet<string>(StringComparer.Ordinal);
            foreach ((_, StageState final) in images)
            {
                // A layer in several images (a COPY from a build-platform stage) is compressed once: say so once.
                List<LayerRef> layers = [.. await compressor.BlobsAsync(final.Chain, n => { if (notes.Add(n)) { vertex.Log(n); } }, cancellationToken).ConfigureAwait(false)];
                final.Layers.Clear();
                final.Layers.AddRange(layers);
                await EnsureStoredAsync(layers, cancellationToken).ConfigureAwait(false);
            }
            vertex.Log("exporting layers done");
            (Descriptor index, IReadOnlyList<PlatformImage> written) = await WriteIndexAsync(images, created, oci, vertex.Log, cancellationToken).ConfigureAwait(false);
            (Dictionary<string, Digest> pushed, IReadOnlyList<Descriptor> referrers) =
                await PushAsync(vertex, index, [.. images.SelectMany(i => i.Final.Layers)], cancellationToken).ConfigureAwait(false);
            foreach (BuildOutput output in request.Outputs)
            {
                switch (output.Type)
                {
                    case BuildOutputType.Oci or BuildOutputType.Docker:
                        {
                            bool ociTypes = output.OciMediaTypes ?? output.Type == BuildOutputType.Oci;
                            Descriptor top = ociTypes == oci ? index : (await WriteIndexAsync(images, created, ociTypes, _ => { }, cancellationToken).ConfigureAwait(false)).Index;
                            await WriteArchiveAsync(output, top, await LayoutAttestationsAsync(output, top, index, referrers, vertex.Log, cancellationToken).ConfigureAwait(false),
                                cancellationToken).ConfigureAwait(false);
                            break;
                        }
                    case BuildOutputType.Local:
                        foreach ((Platform platform, StageState final) in images)
                        {
                            string dir = output.PlatformSplit ? Path.Combine(output.Destination!, PlatformDirectory(platform)) : output.Destination!;
                            await FilesystemOutput.ExtractAsync(store, options, final.Layers, dir, cancellationToken).ConfigureAwait(false);
                        }
                        break;
                    case BuildOutputType.Tar:
                        {
                            string dir = Path.Combine(tmp, "export-rootfs");
                            foreach ((Platform platform, StageState final) in images)
                            {
                                await FilesystemOutput.ExtractAsync(store, options, final.Layers, Path.Combine(dir, PlatformDirectory(platform)), cancellationToken).ConfigureAwait(false);
                            }
                            await FilesystemOutput.WriteTarAsync(options, request, output, dir, cancellationToken).ConfigureAwait(false);
                            break;
                        }
                }
            }
            vertex.Done();
            return new BuildResult { ImageId = index.Digest, Manifest = index, Pushed = pushed, Images = written };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            vertex.Fail(ex.Message);
            throw;
        }
    }

    /// <summary>
    /// An image that stays local needs every blob: imported cache layers are downloaded. A pushed one does not: the push
    /// mounts them from the cache's repository, and the local store names them without holding them.
    /// </summary>
    private async Task EnsureStoredAsync(IReadOnlyList<LayerRef> layers, CancellationToken cancellationToken)
    {
        if (lazy is null || request.PushesImage && request.Outputs.All(o => o.Type == BuildOutputType.Image)) { return; }
        foreach (LayerRef layer in layers) { await lazy.EnsureAsync(layer.Blob.Digest, cancellationToken).ConfigureAwait(false); }
    }

    /// <summary>buildx's directory for a platform's files in a local or tar output: <c>linux/arm/v7</c> → <c>linux_arm_v7</c>.</summary>
    internal static string PlatformDirectory(Platform platform) => platform.ToString().Replace('/', '_');

    /// <summary>Each platform's config and manifest, then the index listing them (with their platforms), all into the store.</summary>
    private async Task<(Descriptor Index, IReadOnlyList<PlatformImage> Images)> WriteIndexAsync(IReadOnlyList<(Platform Platform, StageState Final)> images,
        DateTimeOffset created, bool oci, Action<string> log, CancellationToken cancellationToken)
    {
        var written = new List<PlatformImage>();
        foreach ((Platform platform, StageState final) in images)
        {
            (Descriptor manifest, Digest config) = await WriteImageAsync(final, created, oci, platform, forcePlatform: true, cancellationToken).ConfigureAwait(false);
            log($"exporting manifest {manifest.Digest} done");
            log($"exporting config {config} done");
            written.Add(new PlatformImage(platform, manifest, config));
        }
        var index = new ImageIndex(oci ? MediaTypes.OciIndex : MediaTypes.DockerManifestList, [.. written.Select(w => w.Manifest)]);
        Descriptor stored = await store.WriteBlobAsync(index.ToJsonBytes(), index.MediaType!, cancellationToken).ConfigureAwait(false);
        log($"exporting manifest list {stored.Digest} done");
        return (stored, written);
    }

    /// <summary>Tags the image (manifest or index) in the store under every name, then pushes it when asked to.</summary>
    private async Task<Dictionary<string, Digest>> TagAndPushAsync(Vertex vertex, Descriptor image, IReadOnlyList<LayerRef> layerSources, CancellationToken cancellationToken)
    {
        foreach (Reference tag in request.Tags)
        {
            await store.TagAsync(tag.ToString(), image, cancellationToken).ConfigureAwait(false);
            vertex.Log($"naming to {tag} done");
        }
        var pushed = new Dictionary<string, Digest>(StringComparer.Ordinal);
        bool push = request.PushesImage;
        if (push)
        {
            if (earlyPush is not null) { await earlyPush.WaitAsync().ConfigureAwait(false); } // blobs uploaded while the build ran
            foreach (Reference tag in request.Tags)
            {
                vertex.Log($"pushing {tag}");
                var remote = new HashSet<Digest>();
                // An imported cache's layer on this registry is mounted from the cache's repository (layer.Source), never downloaded.
                foreach (LayerRef layer in lazy is null ? [] : layerSources)
                {
                    if (await lazy!.MountSourceAsync(layer.Blob.Digest, tag.Registry, cancellationToken).ConfigureAwait(false) is not null) { remote.Add(layer.Blob.Digest); }
                }
                pushed[tag.ToString()] = (await ImagePusher.PushAsync(store, options.Registry, tag, image, ImagePusher.MountSources(layerSources, tag), cancellationToken, remote)
                    .ConfigureAwait(false)).Digest;
            }
        }
        return pushed;
    }

    /// <summary>A pushed image's attestations, pushed after it (none when nothing is pushed or none were asked for).</summary>
    /// <summary>
    /// Tags and pushes the image and, side by side, its attestations (a referrer needs no subject in the registry yet, so
    /// neither waits for the other); a failed push stops the attestations and waits for them before it is reported.
    /// </summary>
    private async Task<(Dictionary<string, Digest> Pushed, IReadOnlyList<Descriptor> Referrers)> PushAsync(Vertex vertex, Descriptor top, IReadOnlyList<LayerRef> layers,
        CancellationToken cancellationToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<IReadOnlyList<Descriptor>> attesting = PushAttestationsAsync(top, vertex.Log, cancel.Token);
        try
        {
            Dictionary<string, Digest> pushed = await TagAndPushAsync(vertex, top, layers, cancellationToken).ConfigureAwait(false);
            return (pushed, await attesting.ConfigureAwait(false));
        }
        catch (Exception) when (!attesting.IsCompleted)
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            await ((Task)attesting).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
    }

    private async Task<IReadOnlyList<Descriptor>> PushAttestationsAsync(Descriptor pushedTop, Action<string> log, CancellationToken cancellationToken) =>
        attestor is null || !request.PushesImage ? [] : await attestor.AttachAsync(pushedTop, push: true, log, cancellationToken).ConfigureAwait(false);

    /// <summary>The referrers an OCI layout of <paramref name="top"/> carries: the pushed image's, or made for this layout when its media types made other manifests.</summary>
    private async Task<IReadOnlyList<Descriptor>> LayoutAttestationsAsync(BuildOutput output, Descriptor top, Descriptor pushedTop, IReadOnlyList<Descriptor> pushed,
        Action<string> log, CancellationToken cancellationToken) =>
        attestor is null || output.Type != BuildOutputType.Oci ? []
        : top == pushedTop && pushed.Count > 0 ? pushed
        : await attestor.AttachAsync(top, push: false, log, cancellationToken).ConfigureAwait(false);

    private Task<(Descriptor Manifest, Digest Config)> WriteImageAsync(StageState final, DateTimeOffset created, bool oci, CancellationToken cancellationToken) =>
        WriteImageAsync(final, created, oci, request.Platform, forcePlatform: request.PlatformRequested || request.Platform != Platform.Current, cancellationToken);

    /// <summary>
    /// Writes config and manifest into the store; the descriptor carries the config's platform. With
    /// <paramref name="forcePlatform"/> (a platform the build was asked for) the config says <paramref name="platform"/>
    /// whatever the base image said (keeping the base's variant for the same OS and architecture), as BuildKit does.
    /// </summary>
    private async Task<(Descriptor Manifest, Digest Config)> WriteImageAsync(StageState final, DateTimeOffset created, bool oci, Platform platform, bool forcePlatform,
        CancellationToken cancellationToken)
    {
        ImageConfig config = await StableConfigAsync(final, created, platform, cancellationToken).ConfigureAwait(false);
        if (forcePlatform)
        {
            bool same = config.Os == platform.Os && config.Architecture == platform.Architecture;
            config = config with { Os = platform.Os, Architecture = platform.Architecture, Variant = platform.Variant ?? (same ? config.Variant : null) };
        }
        if (_inline is { } inline) { config = config with { Extra = new Dictionary<string, JsonElement>(StringComparer.Ordinal) { [CacheIndex.InlineKey] = inline } }; }
        byte[] configBytes = OciJson.Serialize(config);
        Descriptor configDescriptor = await store.WriteBlobAsync(configBytes, oci ? MediaTypes.OciConfig : MediaTypes.DockerConfig, cancellationToken).ConfigureAwait(false);
        var layers = final.Layers.Select(l => new Descriptor(MediaTypes.LayerType(MediaTypes.CompressionOf(l.Blob.MediaType), oci), l.Blob.Digest, l.Blob.Size)).ToList();
        var manifest = new ImageManifest(oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest, configDescriptor, layers);
        byte[] manifestBytes = manifest.ToJsonBytes();
        Descriptor stored = await store.WriteBlobAsync(manifestBytes, manifest.MediaType!, cancellationToken).ConfigureAwait(false);
        return (stored with { Platform = config.Platform }, configDescriptor.Digest);
    }

    /// <summary>
    /// The image config, dated like BuildKit dates it: an image whose config (timestamps aside) was exported before
    /// keeps that export's time in <c>created</c> and in this build's history entries, so rebuilding unchanged inputs
    /// gives the same image ID (and a push uploads nothing new). Remembered under <c>buildcache/images/</c>.
    /// </summary>
    private async Task<ImageConfig> StableConfigAsync(StageState final, DateTimeOffset now, Platform platform, CancellationToken cancellationToken)
    {
        if (request.SourceDateEpoch is not null) { return final.ToConfig(now, platform); } // already fixed
        byte[] shape = OciJson.Serialize(Dated(final, now, DateTimeOffset.UnixEpoch, platform));
        string dir = Path.Combine(options.StateRoot, "buildcache", "images");
        string path = Path.Combine(dir, Digest.Compute(shape).Encoded + ".json");
        try
        {
            if (JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), SolverJson.Default.NullableDateTimeOffset) is { } first)
            {
                return Dated(final, now, first, platform);
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or JsonException) { /* first export of this config */ }
        Directory.CreateDirectory(dir);
        await BuildCache.WriteAtomicAsync(path, JsonSerializer.SerializeToUtf8Bytes<DateTimeOffset?>(now, SolverJson.Default.NullableDateTimeOffset), cancellationToken).ConfigureAwait(false);
        return Dated(final, now, now, platform);
    }

    /// <summary>The config with <paramref name="time"/> as its <c>created</c> and in place of this build's own history times.</summary>
    private static ImageConfig Dated(StageState final, DateTimeOffset now, DateTimeOffset time, Platform platform)
    {
        ImageConfig config = final.ToConfig(time, platform);
        return config with { History = config.History?.Select(h => h.Created == now ? h with { Created = time } : h).ToList() };
    }

    /// <summary>An OCI layout tar (or, for type=docker, one with docker load's manifest.json too) holding an image or an index and everything it references.</summary>
    private async Task WriteArchiveAsync(BuildOutput output, Descriptor top, IReadOnlyList<Descriptor> referrers, CancellationToken cancellationToken)
    {
        byte[] topBytes = await store.ReadBlobBytesAsync(top.Digest, cancellationToken: cancellationToken).ConfigureAwait(false);
        var images = new List<(Descriptor Descriptor, ImageManifest Manifest)>();
        bool isIndex = MediaTypes.IsIndex(top.MediaType);
        if (isIndex)
        {
            if (output.Type == BuildOutputType.Docker) { throw new BuildException("docker exporter does not currently support exporting manifest lists"); }
            foreach (Descriptor child in ImageIndex.Parse(topBytes).Manifests)
            {
                images.Add((child, ImageManifest.Parse(await store.ReadBlobBytesAsync(child.Digest, cancellationToken: cancellationToken).ConfigureAwait(false))));
            }
        }
        else { images.Add((top, ImageManifest.Parse(topBytes))); }
        Stream file = output.Destination is null or "-" ? Console.OpenStandardOutput() : File.Create(output.Destination);
        await using (file.ConfigureAwait(false))
        {
            var writer = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: true);
            await using (writer.ConfigureAwait(false))
            {
                await AddBytesAsync(writer, "oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray(), cancellationToken).ConfigureAwait(false);
                var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
                if (request.Tags.Count > 0)
                {
                    annotations[ContentStore.ImageNameAnnotation] = request.Tags[0].ToString();
                    annotations[ContentStore.RefNameAnnotation] = request.Tags[0].Tag ?? Reference.DefaultTag;
                }
                // Attestations go in as referrers: index entries whose manifests name the image as their subject.
                var index = new ImageIndex(MediaTypes.OciIndex, [top with { Annotations = annotations.Count > 0 ? annotations : null, Platform = null }, .. referrers]);
                await AddBytesAsync(writer, "index.json", index.ToJsonBytes(), cancellationToken).ConfigureAwait(false);
                if (output.Type == BuildOutputType.Docker)
                {
                    ImageManifest image = images[0].Manifest;
                    var entry = new JsonObject
                    {
                        ["Config"] = "blobs/sha256/" + image.Config.Digest.Encoded,
                        ["RepoTags"] = new JsonArray([.. request.Tags.Select(t => (JsonNode)JsonValue.Create(t.FamiliarRepository + ":" + (t.Tag ?? Reference.DefaultTag))!)]),
                        ["Layers"] = new JsonArray([.. image.Layers.Select(l => (JsonNode)JsonValue.Create("blobs/sha256/" + l.Digest.Encoded)!)]),
                    };
                    await AddBytesAsync(writer, "manifest.json", Encoding.UTF8.GetBytes(new JsonArray(entry).ToJsonString()), cancellationToken).ConfigureAwait(false);
                }
                foreach (Descriptor referrer in referrers)
                {
                    images.Add((referrer, ImageManifest.Parse(await store.ReadBlobBytesAsync(referrer.Digest, cancellationToken: cancellationToken).ConfigureAwait(false))));
                }
                // Each blob once: platforms can share layers (a COPY from a build-platform stage), even configs.
                var added = new HashSet<Digest>();
                if (isIndex) { await AddBlobOnceAsync(writer, added, top.Digest, cancellationToken).ConfigureAwait(false); }
                foreach ((Descriptor descriptor, ImageManifest manifest) in images)
                {
                    await AddBlobOnceAsync(writer, added, descriptor.Digest, cancellationToken).ConfigureAwait(false);
                    await AddBlobOnceAsync(writer, added, manifest.Config.Digest, cancellationToken).ConfigureAwait(false);
                    foreach (Descriptor layer in manifest.Layers) { await AddBlobOnceAsync(writer, added, layer.Digest, cancellationToken).ConfigureAwait(false); }
                }
            }
        }
    }

    private async Task AddBlobOnceAsync(TarWriter writer, HashSet<Digest> added, Digest digest, CancellationToken cancellationToken)
    {
        if (added.Add(digest)) { await AddBlobAsync(writer, digest, cancellationToken).ConfigureAwait(false); }
    }

    private async Task AddBlobAsync(TarWriter writer, Digest digest, CancellationToken cancellationToken)
    {
        Stream blob = store.OpenBlob(digest);
        await using (blob.ConfigureAwait(false))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, $"blobs/{digest.Algorithm}/{digest.Encoded}")
            {
                DataStream = blob, Mode = (UnixFileMode)0b110_100_100, ModificationTime = DateTimeOffset.UnixEpoch,
            };
            await writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task AddBytesAsync(TarWriter writer, string name, byte[] content, CancellationToken cancellationToken)
    {
        using var data = new MemoryStream(content, writable: false);
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data, Mode = (UnixFileMode)0b110_100_100, ModificationTime = DateTimeOffset.UnixEpoch };
        await writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
    }
}
