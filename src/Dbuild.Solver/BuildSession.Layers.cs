using System.Formats.Tar;
using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

internal sealed partial class BuildSession
{
    private LayerWriterOptions WriterOptions => new()
    {
        Compression = _request.Compression,
        CompressionLevel = _request.CompressionLevel,
        SourceDateEpoch = _request.SourceDateEpoch,
        GzipParallelism = Math.Max(1, Environment.ProcessorCount),
    };

    /// <summary>Writes entries as a layer blob to a temp file, then moves it into the content store under its digest.</summary>
    private async Task<CachedLayer?> WriteLayerAsync(IReadOnlyList<LayerEntry> entries, CancellationToken cancellationToken)
    {
        string temp = Path.Combine(_tmp, $"layer-{Guid.NewGuid():N}");
        LayerWriteResult result;
        FileStream file = new(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 1 << 16, Options = FileOptions.Asynchronous });
        await using (file.ConfigureAwait(false))
        {
            result = await LayerWriter.WriteAsync(entries, file, WriterOptions, cancellationToken).ConfigureAwait(false);
        }
        return await IngestAsync(temp, result, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves a finished layer file into the store (a rename on the same filesystem; a copy otherwise).</summary>
    private async Task<CachedLayer> IngestAsync(string path, LayerWriteResult layer, CancellationToken cancellationToken)
    {
        string mediaType = MediaTypes.LayerType(layer.Compression, oci: true);
        if (!_store.Contains(layer.Digest))
        {
            string target = _store.GetBlobPath(layer.Digest);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            try { File.Move(path, target, overwrite: false); }
            catch (IOException) when (_store.Contains(layer.Digest)) { /* a concurrent build stored the same bytes */ }
            catch (IOException)
            {
                FileStream stream = File.OpenRead(path);
                await using (stream.ConfigureAwait(false))
                {
                    await _store.WriteBlobAsync(stream, mediaType, layer.Digest, layer.Size, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        if (File.Exists(path)) { File.Delete(path); }
        return new CachedLayer(mediaType, layer.Digest.ToString(), layer.Size, layer.DiffId.ToString());
    }

    /// <summary>The stage's merged filesystem metadata, read from its layers once and then kept up to date.</summary>
    private async Task<FsTree> TreeAsync(StageState state, CancellationToken cancellationToken)
    {
        if (state.Tree is { } known) { return known; }
        var tree = new FsTree();
        for (int i = 0; i < state.Layers.Count; i++)
        {
            Stream blob = _store.OpenBlob(state.Layers[i].Blob.Digest);
            await using (blob.ConfigureAwait(false))
            {
                var entries = new List<LayerEntry>();
                await foreach (LayerEntry entry in LayerReader.ReadEntriesAsync(blob, cancellationToken).ConfigureAwait(false)) { entries.Add(entry); }
                tree.Apply(entries, i);
            }
        }
        state.Tree = tree;
        return tree;
    }

    /// <summary>The cache-key input of COPY --from: the source stage's or image's chain key, or the named context's file hashes.</summary>
    private async Task<string> SourceKeyAsync(StagePlan stage, string from, CancellationToken cancellationToken)
    {
        if (_request.NamedContexts.TryGetValue(from, out string? named) && !named.StartsWith("docker-image://", StringComparison.Ordinal))
        {
            var tree = new ContextTree(named, _fs, DockerIgnore.Load(named), _options.StateRoot);
            var all = await CopyPlanner.KeyComponentsAsync(new CopySpec { Sources = ["."], Destination = "/" }, tree, cancellationToken).ConfigureAwait(false);
            await tree.SaveAsync(cancellationToken).ConfigureAwait(false);
            return "context " + new CacheKeyBuilder().Add("files", string.Join('\n', all.Select(c => c.Name + "=" + c.Value))).Build();
        }
        if (named is not null) { from = named["docker-image://".Length..]; }
        if (_plan.FindStage(from, stage.Index) is { } other)
        {
            return "stage " + (await StageAsync(other, cancellationToken).ConfigureAwait(false)).Key;
        }
        BaseImage image = await ResolveImageAsync(from, cancellationToken).ConfigureAwait(false);
        return "image " + image.ManifestDigest;
    }

    /// <summary>COPY --from: a stage, a named context, or an image, unpacked once per build.</summary>
    private async Task<(SourceTree Tree, string Key)> SourceFromAsync(StagePlan stage, string from, CancellationToken cancellationToken)
    {
        if (_request.NamedContexts.TryGetValue(from, out string? named))
        {
            if (!named.StartsWith("docker-image://", StringComparison.Ordinal))
            {
                return (new ContextTree(named, _fs, DockerIgnore.Load(named), _options.StateRoot), "context " + named);
            }
            from = named["docker-image://".Length..];
        }
        StageState source;
        string label;
        if (_plan.FindStage(from, stage.Index) is { } other)
        {
            source = await StageAsync(other, cancellationToken).ConfigureAwait(false);
            label = $"stage {other.DisplayName}";
        }
        else
        {
            BaseImage image = await ResolveImageAsync(from, cancellationToken).ConfigureAwait(false);
            source = StageState.FromImage(image.Config, image.Layers, new CacheKeyBuilder().Add("base image", image.ManifestDigest.ToString()).Build());
            label = $"image {image.Reference}";
        }
        StageTree tree = await _rootfs.GetOrAdd(source.Key.ToString(), _ => new Lazy<Task<StageTree>>(async () =>
        {
            string dir = Path.Combine(_tmp, "rootfs-" + source.Key.Encoded[..16]);
            foreach (LayerRef layer in source.Layers)
            {
                Stream blob = _store.OpenBlob(layer.Blob.Digest);
                await using (blob.ConfigureAwait(false))
                {
                    await LayerExtractor.ExtractAsync(blob, dir, new LayerExtractOptions { PreserveOwnership = false, AllowDeviceNodes = false, FileSystem = _fs },
                        cancellationToken).ConfigureAwait(false);
                }
            }
            Directory.CreateDirectory(dir);
            FsTree meta = await TreeAsync(source, cancellationToken).ConfigureAwait(false);
            return new StageTree(dir, meta, label, _fs);
        })).Value.ConfigureAwait(false);
        return (tree, "stage " + source.Key);
    }

    /// <summary>Resolves <c>user[:group]</c> with the stage's /etc/passwd and /etc/group; a bare user takes its primary group.</summary>
    private async Task<(int Uid, int Gid)> ResolveOwnerAsync(StageState state, string chown, CancellationToken cancellationToken)
    {
        int colon = chown.IndexOf(':', StringComparison.Ordinal);
        string user = colon < 0 ? chown : chown[..colon];
        string? group = colon < 0 ? null : chown[(colon + 1)..];
        int? uid = int.TryParse(user, System.Globalization.CultureInfo.InvariantCulture, out int u) ? u : null;
        int? gid = group is not null && int.TryParse(group, System.Globalization.CultureInfo.InvariantCulture, out int g) ? g : null;
        int? primary = null;
        if (uid is null || (group is null && uid is not null))
        {
            string? passwd = await ReadFileAsync(state, "etc/passwd", cancellationToken).ConfigureAwait(false);
            foreach (string line in (passwd ?? "").Split('\n'))
            {
                string[] f = line.Split(':');
                if (f.Length < 4) { continue; }
                if (uid is null ? f[0] == user : f[2] == user)
                {
                    uid ??= int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture);
                    primary = int.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                }
            }
            if (uid is null) { throw new BuildException($"unable to find user {user}: no matching entries in passwd file"); }
        }
        if (group is not null && gid is null)
        {
            string? groups = await ReadFileAsync(state, "etc/group", cancellationToken).ConfigureAwait(false);
            foreach (string line in (groups ?? "").Split('\n'))
            {
                string[] f = line.Split(':');
                if (f.Length >= 3 && f[0] == group) { gid = int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture); break; }
            }
            if (gid is null) { throw new BuildException($"unable to find group {group}: no matching entries in group file"); }
        }
        // Docker: a user without a group gets the same numeric id as group, whether named or numeric (BuildKit behaviour).
        return (uid!.Value, gid ?? (int.TryParse(user, System.Globalization.CultureInfo.InvariantCulture, out _) ? uid.Value : primary ?? uid.Value));
    }

    /// <summary>Reads a small file of the stage from the topmost layer holding it.</summary>
    private async Task<string?> ReadFileAsync(StageState state, string path, CancellationToken cancellationToken)
    {
        FsTree tree = await TreeAsync(state, cancellationToken).ConfigureAwait(false);
        string resolved = tree.Resolve(path);
        if (tree.Get(resolved) is not { Type: LayerEntryType.File } node) { return null; }
        Stream blob = _store.OpenBlob(state.Layers[node.Layer].Blob.Digest);
        await using (blob.ConfigureAwait(false))
        {
            Stream tar = await LayerReader.OpenDecompressedAsync(blob, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (tar.ConfigureAwait(false))
            {
                using var reader = new TarReader(tar);
                while (await reader.GetNextEntryAsync(cancellationToken: cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    string name = entry.Name.TrimStart('.', '/').TrimEnd('/');
                    if (name == resolved && entry.DataStream is { } data)
                    {
                        using var text = new StreamReader(data);
                        return await text.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        return null;
    }
}
