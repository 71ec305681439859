using System.Formats.Tar;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using DockerIgnore = Dbuild.Dockerfile.DockerIgnore;

namespace Dbuild.Solver;

internal sealed partial class BuildSession
{
    /// <summary>Step layers are written uncompressed; the exporter compresses the ones an image needs (<see cref="LayerCompressor"/>).</summary>
    private LayerWriterOptions WriterOptions() => new()
    {
        Compression = LayerCompression.None,
        SourceDateEpoch = _request.SourceDateEpoch,
    };

    /// <summary>
    /// Writes entries as a layer blob to a temp file, then moves it into the content store under its digest. When every
    /// file names its content (<see cref="LayerEntry.ContentId"/>), the entries' digest is looked up first: a layer made
    /// from exactly these entries before (a COPY re-run only because its parent changed) is reused without writing it.
    /// </summary>
    private async Task<CachedLayer?> WriteLayerAsync(IReadOnlyList<LayerEntry> entries, CancellationToken cancellationToken)
    {
        string? record = PlanRecordPath(entries);
        if (record is not null && await _cache.TryGetLayerAsync(record, cancellationToken).ConfigureAwait(false) is { } known)
        {
            Log.LayerReused(_options.Logger, entries.Count, known.Digest);
            return known;
        }
        CachedLayer? written = await WriteLayerFileAsync(entries, cancellationToken).ConfigureAwait(false);
        if (record is not null && written is not null) { await _cache.PutLayerAsync(record, written, cancellationToken).ConfigureAwait(false); }
        return written;
    }

    /// <summary>The record naming the layer these entries make, or null when a file's content has no stable name.</summary>
    private string? PlanRecordPath(IReadOnlyList<LayerEntry> entries)
    {
        if (entries.Any(e => e.Type == LayerEntryType.File && e.Size > 0 && e.ContentId is null)) { return null; }
        var key = new System.Text.StringBuilder("layer-plan v1\n");
        DateTimeOffset? epoch = _request.SourceDateEpoch;
        foreach (LayerEntry e in entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            DateTimeOffset mtime = epoch is { } clamp && e.ModificationTime > clamp ? clamp : e.ModificationTime;
            key.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"{e.Path}\0{e.Type}\0{(int)e.Mode}\0{e.Uid}:{e.Gid}\0{e.Size}\0{mtime.ToUnixTimeSeconds()}\0{e.LinkTarget}\0{e.DeviceMajor},{e.DeviceMinor}\0{e.ContentId}\0");
            foreach ((string name, byte[] value) in e.ExtendedAttributes?.OrderBy(x => x.Key, StringComparer.Ordinal) ?? Enumerable.Empty<KeyValuePair<string, byte[]>>())
            {
                key.Append(name).Append('=').Append(Convert.ToBase64String(value)).Append('\0');
            }
            key.Append('\n');
        }
        return Digest.Compute(System.Text.Encoding.UTF8.GetBytes(key.ToString())).Encoded;
    }

    private async Task<CachedLayer?> WriteLayerFileAsync(IReadOnlyList<LayerEntry> entries, CancellationToken cancellationToken)
    {
        string temp = Path.Combine(_tmp, $"layer-{Guid.NewGuid():N}");
        LayerWriteResult result;
        FileStream file = new(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 1 << 16, Options = FileOptions.Asynchronous });
        await using (file.ConfigureAwait(false))
        {
            result = await LayerWriter.WriteAsync(entries, file, WriterOptions(), cancellationToken).ConfigureAwait(false);
        }
        return await IngestAsync(temp, result, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves a finished layer file into the store (a rename on the same filesystem; a copy otherwise).</summary>
    private async Task<CachedLayer> IngestAsync(string path, LayerWriteResult layer, CancellationToken cancellationToken)
    {
        string mediaType = MediaTypes.LayerType(layer.Compression, oci: true);
        await _store.CommitFileAsync(path, layer.Digest, layer.Size, mediaType, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// ADD https://…: downloads into the build's temp dir (verifying --checksum), as a one-file source tree. The file is
    /// named after the URL's last path segment, mode 0600 and mtime from Last-Modified, as BuildKit does.
    /// </summary>
    private async Task<(SourceTree Tree, string Digest)> DownloadAsync(string url, string? checksum, CancellationToken cancellationToken)
    {
        HttpClient http = _options.Http ?? throw new BuildException($"ADD {url}: downloads need an HTTP client.");
        var uri = new Uri(url);
        string fileName = Path.GetFileName(uri.AbsolutePath.TrimEnd('/'));
        if (fileName.Length == 0) { fileName = "__unnamed__"; }
        string dir = Path.Combine(_tmp, "url-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, fileName);
        using HttpResponseMessage response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) { throw new BuildException($"ADD {url} failed: {(int)response.StatusCode} {response.ReasonPhrase}."); }
        Digest digest;
        FileStream file = File.Create(path);
        await using (file.ConfigureAwait(false))
        {
            Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var hashing = new DigestingReadStream(body);
                await hashing.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                digest = hashing.ActualDigest ?? throw new BuildException($"ADD {url}: the download ended early.");
            }
        }
        if (checksum is not null && checksum != digest.ToString())
        {
            throw new BuildException($"ADD {url}: digest mismatch: expected {checksum}, got {digest}.");
        }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (response.Content.Headers.LastModified is { } modified) { File.SetLastWriteTimeUtc(path, modified.UtcDateTime); }
        return (new UrlTree(dir, fileName, _fs), digest.ToString());
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

    /// <summary>
    /// COPY --from: a stage, a named context, or an image, read in place from its layers (<see cref="LayerIndexTree"/>):
    /// plain layer tars are only indexed; compressed ones unpack just the paths the COPY names.
    /// </summary>
    private async Task<(SourceTree Tree, string Key)> SourceFromAsync(StagePlan stage, string from, IReadOnlyList<string> sources, CancellationToken cancellationToken)
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
        string dir = Path.Combine(_tmp, "from-" + Guid.NewGuid().ToString("N"));
        LayerIndexTree tree = await LayerIndexTree.BuildAsync(_store, source.Layers, [.. sources.Select(CopyPlanner.Clean)], dir, label, cancellationToken).ConfigureAwait(false);
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
