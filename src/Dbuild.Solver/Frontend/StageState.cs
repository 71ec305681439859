using Dbuild.Oci;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Frontend;

/// <summary>One history entry of a stage, with the op whose layer it describes (null: a config-only entry, or one of the base image).</summary>
internal sealed record HistoryItem(HistoryEntry Entry, OpNode? LayerOp);

/// <summary>
/// A stage's image config as lowering builds it, instruction by instruction (ENV, USER, CMD, …, and the history), and
/// after solving the image to export: <see cref="ForExport"/> adds the layers and marks which history entries got none.
/// </summary>
internal sealed class StageState
{
    public required ImageConfig BaseConfig { get; init; }
    public List<LayerRef> Layers { get; init; } = [];

    /// <summary>The image's layers as the build left them (blobs, or kept snapshots the exporter writes as blobs into <see cref="Layers"/>).</summary>
    public List<ChainLayer> Chain { get; init; } = [];
    public List<HistoryItem> History { get; init; } = [];
    public List<string> Env { get; init; } = [];
    public string? User { get; set; }
    public string WorkingDir { get; set; } = "/";
    public SortedDictionary<string, string> Labels { get; init; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, EmptyObject> ExposedPorts { get; init; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, EmptyObject> Volumes { get; init; } = new(StringComparer.Ordinal);
    public IReadOnlyList<string>? Entrypoint { get; set; }
    public IReadOnlyList<string>? Cmd { get; set; }
    public IReadOnlyList<string>? Shell { get; set; }
    public string? StopSignal { get; set; }
    public HealthConfig? Healthcheck { get; set; }
    public List<string> OnBuild { get; init; } = [];
    public bool ArgsEscaped { get; set; }
    public string? Author { get; set; }
    public bool CmdSet { get; set; }

    public static StageState FromImage(ImageConfig config)
    {
        ContainerConfig? c = config.Config;
        var state = new StageState
        {
            BaseConfig = config,
            History = [.. (config.History ?? []).Select(h => new HistoryItem(h, null))],
            Env = [.. c?.Env ?? []],
            User = c?.User,
            WorkingDir = string.IsNullOrEmpty(c?.WorkingDir) ? "/" : c!.WorkingDir!,
            Entrypoint = c?.Entrypoint,
            Cmd = c?.Cmd,
            Shell = c?.Shell,
            StopSignal = c?.StopSignal,
            Healthcheck = c?.Healthcheck,
            ArgsEscaped = c?.ArgsEscaped ?? false,
            Author = config.Author,
        };
        foreach (var kv in c?.Labels ?? new Dictionary<string, string>()) { state.Labels[kv.Key] = kv.Value; }
        foreach (var kv in c?.ExposedPorts ?? new Dictionary<string, EmptyObject>()) { state.ExposedPorts[kv.Key] = kv.Value; }
        foreach (var kv in c?.Volumes ?? new Dictionary<string, EmptyObject>()) { state.Volumes[kv.Key] = kv.Value; }
        state.OnBuild.AddRange(c?.OnBuild ?? []);
        return state;
    }

    /// <summary>A copy for a stage built FROM this one (ONBUILD triggers are consumed, not inherited).</summary>
    public StageState Fork() => new()
    {
        BaseConfig = BaseConfig,
        Layers = [.. Layers],
        History = [.. History],
        Env = [.. Env],
        User = User,
        WorkingDir = WorkingDir,
        Labels = new(Labels, StringComparer.Ordinal),
        ExposedPorts = new(ExposedPorts, StringComparer.Ordinal),
        Volumes = new(Volumes, StringComparer.Ordinal),
        Entrypoint = Entrypoint,
        Cmd = Cmd,
        Shell = Shell,
        StopSignal = StopSignal,
        Healthcheck = Healthcheck,
        OnBuild = [.. OnBuild],
        ArgsEscaped = ArgsEscaped,
        Author = Author,
    };

    /// <summary>
    /// The image to export: these layers, and the history with each step's entry marked empty when its op added no
    /// layer (a RUN that changed nothing), as BuildKit's exporter does.
    /// </summary>
    public StageState ForExport(IReadOnlyList<ChainLayer> layers, Func<OpNode, bool> addedLayer)
    {
        StageState image = Fork();
        image.Chain.AddRange(layers);
        image.History.Clear();
        image.History.AddRange(History.Select(h => h.LayerOp is { } op ? new HistoryItem(h.Entry with { EmptyLayer = !addedLayer(op) }, null) : h));
        return image;
    }

    /// <summary>Adds a history entry: a config-only one, or (with <paramref name="layerOp"/>) the one for that op's layer.</summary>
    public void AddHistory(string createdBy, DateTimeOffset created, OpNode? layerOp = null) => History.Add(new HistoryItem(new HistoryEntry
    {
        Created = created,
        CreatedBy = createdBy,
        Comment = "buildkit.dockerfile.v0",
        EmptyLayer = layerOp is null,
    }, layerOp));

    public string? GetEnv(string name)
    {
        for (int i = Env.Count - 1; i >= 0; i--)
        {
            int eq = Env[i].IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && Env[i].AsSpan(0, eq).SequenceEqual(name)) { return Env[i][(eq + 1)..]; }
        }
        return null;
    }

    public void SetEnv(string name, string value)
    {
        int i = Env.FindIndex(e => e.StartsWith(name + "=", StringComparison.Ordinal));
        if (i >= 0) { Env[i] = $"{name}={value}"; } else { Env.Add($"{name}={value}"); }
    }

    public ImageConfig ToConfig(DateTimeOffset created, Platform platform) => BaseConfig with
    {
        Architecture = string.IsNullOrEmpty(BaseConfig.Architecture) ? platform.Architecture : BaseConfig.Architecture,
        Os = string.IsNullOrEmpty(BaseConfig.Os) ? platform.Os : BaseConfig.Os,
        Variant = string.IsNullOrEmpty(BaseConfig.Architecture) ? platform.Variant : BaseConfig.Variant,
        Created = created,
        Author = Author,
        Config = (BaseConfig.Config ?? new ContainerConfig()) with
        {
            // Go's omitempty, as BuildKit writes the config: an empty user, entrypoint, command, shell or stop signal is left out.
            User = string.IsNullOrEmpty(User) ? null : User,
            ExposedPorts = ExposedPorts.Count > 0 ? new SortedDictionary<string, EmptyObject>(ExposedPorts, StringComparer.Ordinal) : null,
            Env = Env.Count > 0 ? [.. Env] : null,
            Entrypoint = Entrypoint is { Count: 0 } ? null : Entrypoint,
            Cmd = Cmd is { Count: 0 } ? null : Cmd,
            Volumes = Volumes.Count > 0 ? new SortedDictionary<string, EmptyObject>(Volumes, StringComparer.Ordinal) : null,
            WorkingDir = WorkingDir == "/" && BaseConfig.Config?.WorkingDir is null or "" ? null : WorkingDir,
            Labels = Labels.Count > 0 ? new SortedDictionary<string, string>(Labels, StringComparer.Ordinal) : null,
            StopSignal = string.IsNullOrEmpty(StopSignal) ? null : StopSignal,
            ArgsEscaped = ArgsEscaped,
            Healthcheck = Healthcheck,
            OnBuild = OnBuild.Count > 0 ? [.. OnBuild] : null,
            Shell = Shell is { Count: 0 } ? null : Shell,
        },
        RootFs = new RootFs { DiffIds = [.. Layers.Select(l => l.DiffId)] },
        History = [.. History.Select(h => h.Entry)],
        Extra = null,
    };
}
