using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Oci.Locking;

namespace Dbuild.Solver.Store;

/// <summary>What <c>dbuild import</c> makes an image from.</summary>
/// <remarks><c>Source</c> is how docker names the source in the image's comment: <c>-</c> for a file or stdin, else the URL.</remarks>
public sealed record ImportRequest(string Source, Platform Platform, IReadOnlyList<string> Changes, string? Message, DateTimeOffset Created);

/// <summary>
/// <c>dbuild import</c> as docker's daemon does it: the tarball (plain, gzip, zstd, bzip2 or xz) decompressed into one
/// uncompressed layer (its digest is its diffID), a config with docker's import fields (<c>comment</c>, one history
/// entry) and the <c>--change</c> instructions docker allows applied to an empty config.
/// </summary>
public sealed class ImageImporter(LocalImages images)
{
    private static readonly HashSet<string> AllowedChanges = new(StringComparer.OrdinalIgnoreCase) { "CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "VOLUME", "WORKDIR" };

    /// <summary>Stores the image and names it <paramref name="name"/> (none: a dangling image); returns its top descriptor and image ID.</summary>
    public async Task<(Descriptor Manifest, Digest ImageId)> ImportAsync(Stream tarball, ImportRequest request, Reference? name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ContainerConfig container = ApplyChanges(request.Changes);
        ContentStore store = images.Store;
        using FileLock use = await StoreUse.ForWritingAsync(images.StateRoot, images.Waiting, cancellationToken).ConfigureAwait(false); // no prune while its blobs are unnamed
        Stream tar = await ArchiveDecompression.OpenAsync(tarball, cancellationToken).ConfigureAwait(false);
        Descriptor layer;
        await using (tar.ConfigureAwait(false))
        {
            layer = await store.WriteBlobAsync(tar, MediaTypes.DockerLayer, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        Stream check = store.OpenBlob(layer.Digest);
        await using (check.ConfigureAwait(false))
        {
            if (layer.Size > 0 && !await LayerReader.IsTarAsync(check, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidContentException($"The import source {request.Source} is not a tar archive (after decompression): archive/tar: invalid tar header.");
            }
        }
        string comment = request.Message is { Length: > 0 } m ? m : "Imported from " + request.Source;
        var config = new ImageConfig(request.Platform)
        {
            Created = request.Created,
            Config = container,
            RootFs = new RootFs { DiffIds = [layer.Digest] },
            History = [new HistoryEntry { Created = request.Created, Comment = comment }],
            Extra = new() { ["comment"] = JsonString(comment) },
        };
        Descriptor configBlob = await store.WriteBlobAsync(config.ToJsonBytes(), MediaTypes.DockerConfig, cancellationToken).ConfigureAwait(false);
        byte[] manifest = new ImageManifest(MediaTypes.DockerManifest, configBlob, [layer]).ToJsonBytes();
        Descriptor top = await store.WriteBlobAsync(manifest, MediaTypes.DockerManifest, cancellationToken).ConfigureAwait(false);
        if (name is null) { await store.AddUnnamedAsync(top, cancellationToken).ConfigureAwait(false); }
        else { await store.TagAsync(name.ToString(), top, cancellationToken).ConfigureAwait(false); }
        return (top, configBlob.Digest);
    }

    /// <summary>docker import's <c>--change</c>: Dockerfile instructions, only those that set config, applied in order.</summary>
    /// <exception cref="FormatException">An instruction docker import does not allow, or one that does not parse.</exception>
    public static ContainerConfig ApplyChanges(IReadOnlyList<string> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var config = new ContainerConfig();
        foreach (string change in changes)
        {
            string keyword = change.TrimStart().Split(' ', '\t')[0];
            if (!AllowedChanges.Contains(keyword)) { throw new FormatException($"{keyword} is not a valid change command"); }
            IReadOnlyList<Instruction> parsed;
            try { parsed = InstructionParser.ParseAll(DockerfileParser.Parse(change, "--change")); }
            catch (DockerfileSyntaxException ex) { throw new FormatException($"--change '{change}': {ex.Message}", ex); }
            foreach (Instruction instruction in parsed) { config = Apply(config, instruction); }
        }
        return config;
    }

    /// <summary>One instruction on the config; words go through the Dockerfile's quote removal and <c>$VAR</c> expansion against the ENV so far, as docker's.</summary>
    private static ContainerConfig Apply(ContainerConfig config, Instruction instruction)
    {
        var environment = (config.Env ?? []).Select(e => e.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);
        var lexer = new ShellLexer();
        string Word(string word) => lexer.ProcessWord(word, environment);
        return instruction switch
        {
            CmdInstruction cmd => config with { Cmd = Command(cmd.Command) },
            EntrypointInstruction entrypoint => config with { Entrypoint = Command(entrypoint.Command), Cmd = null },
            EnvInstruction env => config with { Env = Merge(config.Env, env.Pairs.Select(p => new KeyValue(Word(p.Key), Word(p.Value))).ToList()) },
            ExposeInstruction expose => config with
            {
                ExposedPorts = new Dictionary<string, EmptyObject>((config.ExposedPorts ?? new Dictionary<string, EmptyObject>())
                    .Concat(expose.Ports.Select(Word).Select(p => KeyValuePair.Create(p.Contains('/', StringComparison.Ordinal) ? p : p + "/tcp", new EmptyObject()))).DistinctBy(p => p.Key)),
            },
            LabelInstruction label => config with
            {
                Labels = new Dictionary<string, string>((config.Labels ?? new Dictionary<string, string>())
                    .Concat(label.Pairs.Select(p => KeyValuePair.Create(Word(p.Key), Word(p.Value)))).GroupBy(l => l.Key).Select(g => g.Last())),
            },
            UserInstruction user => config with { User = Word(user.User) },
            VolumeInstruction volume => config with
            {
                Volumes = new Dictionary<string, EmptyObject>((config.Volumes ?? new Dictionary<string, EmptyObject>())
                    .Concat(volume.Volumes.Select(Word).Select(v => KeyValuePair.Create(v, new EmptyObject()))).DistinctBy(v => v.Key)),
            },
            WorkdirInstruction workdir => config with { WorkingDir = Word(workdir.Path) },
            _ => throw new FormatException($"{instruction.GetType().Name} is not a valid change command"),
        };
    }

    private static System.Text.Json.JsonElement JsonString(string value)
    {
        using var document = System.Text.Json.JsonDocument.Parse("\"" + System.Text.Json.JsonEncodedText.Encode(value) + "\"");
        return document.RootElement.Clone();
    }

    private static List<string> Command(CommandLine command) =>
        command.PrependShell ? ["/bin/sh", "-c", string.Join(' ', command.Arguments)] : [.. command.Arguments];

    private static List<string> Merge(IReadOnlyList<string>? env, IReadOnlyList<KeyValue> pairs)
    {
        var result = (env ?? []).ToList();
        foreach (KeyValue pair in pairs)
        {
            result.RemoveAll(e => e.StartsWith(pair.Key + "=", StringComparison.Ordinal));
            result.Add($"{pair.Key}={pair.Value}");
        }
        return result;
    }
}
