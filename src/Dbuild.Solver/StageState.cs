using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>What a stage carries from step to step: layers, image config, history, and the running cache key.</summary>
internal sealed class StageState
{
    public required ImageConfig BaseConfig { get; init; }
    public List<LayerRef> Layers { get; init; } = [];
    public List<HistoryEntry> History { get; init; } = [];
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
    public Digest Key { get; set; }
    public FsTree? Tree { get; set; }

    /// <summary>ARGs in scope, in declaration order (RUN gets them as environment and in its history line).</summary>
    public List<KeyValuePair<string, string?>> Args { get; init; } = [];

    public static StageState FromImage(ImageConfig config, IReadOnlyList<LayerRef> layers, Digest key)
    {
        ContainerConfig? c = config.Config;
        var state = new StageState
        {
            BaseConfig = config,
            Layers = [.. layers],
            History = [.. config.History ?? []],
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
            Key = key,
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
        Key = Key,
        Tree = Tree?.Clone(),
    };

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

    /// <summary>Variables for word expansion: ARGs, overridden by ENV.</summary>
    public Dictionary<string, string> ExpansionEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var arg in Args) { if (arg.Value is not null) { env[arg.Key] = arg.Value; } }
        foreach (string e in Env)
        {
            int eq = e.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) { env[e[..eq]] = e[(eq + 1)..]; }
        }
        return env;
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
            User = User,
            ExposedPorts = ExposedPorts.Count > 0 ? new SortedDictionary<string, EmptyObject>(ExposedPorts, StringComparer.Ordinal) : null,
            Env = Env.Count > 0 ? [.. Env] : null,
            Entrypoint = Entrypoint,
            Cmd = Cmd,
            Volumes = Volumes.Count > 0 ? new SortedDictionary<string, EmptyObject>(Volumes, StringComparer.Ordinal) : null,
            WorkingDir = WorkingDir == "/" && BaseConfig.Config?.WorkingDir is null or "" ? null : WorkingDir,
            Labels = Labels.Count > 0 ? new SortedDictionary<string, string>(Labels, StringComparer.Ordinal) : null,
            StopSignal = StopSignal,
            ArgsEscaped = ArgsEscaped,
            Healthcheck = Healthcheck,
            OnBuild = OnBuild.Count > 0 ? [.. OnBuild] : null,
            Shell = Shell,
        },
        RootFs = new RootFs { DiffIds = [.. Layers.Select(l => l.DiffId)] },
        History = [.. History],
        Extra = null,
    };
}
