using Dbuild.Dockerfile;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Graph;

/// <summary>A RUN: a process in the filesystem of <see cref="Parent"/>, with mounts; what it changes becomes one layer.</summary>
internal sealed class ExecOp : OpNode
{
    public required OpNode Parent { get; init; }

    /// <summary>The process's arguments (the shell form already wrapped in the stage's SHELL).</summary>
    public required IReadOnlyList<string> Args { get; init; }

    /// <summary>The image's environment (ENV), which the key names.</summary>
    public required IReadOnlyList<string> ImageEnv { get; init; }

    /// <summary>ARGs in scope, in declaration order: they reach the process as environment and go into the key.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> BuildArgs { get; init; }

    /// <summary>Proxy build args (HTTP_PROXY…): environment of the process only, never in the key or the history (as BuildKit).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ProxyEnv { get; init; } = [];

    public string? User { get; init; }

    public required string WorkingDirectory { get; init; }

    /// <summary>default, none or host.</summary>
    public required string Network { get; init; }

    public SecurityMode Security { get; init; }

    /// <summary><c>--add-host</c> entries for /etc/hosts (in the key when there are any, as BuildKit's exec op carries them).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraHosts { get; init; } = [];

    /// <summary>The <c>--mount</c> values as written (part of the key, as before).</summary>
    public required string MountSpecs { get; init; }

    public IReadOnlyList<ExecMount> Mounts { get; init; } = [];

    public override string Kind => "exec";

    public override IReadOnlyList<OpNode> Inputs => [Parent, .. Mounts.Where(m => m.Source is not null).Select(m => m.Source!)];

    /// <summary>The full process environment: ENV, then each ARG not shadowed by an ENV of the same name, then proxies.</summary>
    public IReadOnlyList<string> ProcessEnv()
    {
        var env = new List<string>(ImageEnv);
        foreach ((string key, string value) in BuildArgs)
        {
            if (!ImageEnv.Any(e => e.StartsWith(key + "=", StringComparison.Ordinal))) { env.Add($"{key}={value}"); }
        }
        foreach ((string key, string value) in ProxyEnv)
        {
            if (!env.Any(e => e.StartsWith(key + "=", StringComparison.Ordinal))) { env.Add($"{key}={value}"); }
        }
        return env;
    }

    public override IReadOnlyList<KeyComponent> Definition =>
    [
        new("command", string.Join('\0', Args)),
        new("env", string.Join('\0', ImageEnv)),
        new("user", User ?? ""),
        new("workdir", WorkingDirectory),
        new("network", Network),
        new("security", Security.ToString()),
        .. ExtraHosts.Count == 0 ? [] : new[] { new KeyComponent("extra-hosts", string.Join('\0', ExtraHosts.Select(h => h.Key + "=" + h.Value))) },
        new("mounts", MountSpecs),
        .. Mounts.Select((m, i) => new KeyComponent($"mount {i}", m.Describe())),
        .. BuildArgs.Select(a => new KeyComponent("build-arg " + a.Key, a.Value)),
    ];
}

/// <summary>
/// One <c>RUN --mount</c>, validated during lowering: <see cref="Mount"/> with BuildKit's defaults, its absolute
/// <see cref="Target"/> (null: the type's default), and for bind and cache mounts from somewhere the op that provides
/// the files (<see cref="Source"/>: a context, or a stage's or image's filesystem) and the path inside it.
/// </summary>
internal sealed record ExecMount(RunMount Mount, string? Target)
{
    public OpNode? Source { get; init; }

    /// <summary>The clean path inside <see cref="Source"/> ("" for its root).</summary>
    public string SubPath { get; init; } = "";

    /// <summary>For messages: <c>stage build</c>, <c>context</c>, <c>image alpine</c>.</summary>
    public string SourceDescription { get; init; } = "";

    /// <summary>The mount's definition (never a secret's value: only its id).</summary>
    public string Describe() =>
        $"{Mount.Type} target={Target} from={SourceDescription} sub={SubPath} id={Mount.Id} ro={Mount.ReadOnly} sharing={Mount.Sharing} mode={Mount.Mode} uid={Mount.Uid} gid={Mount.Gid} required={Mount.Required} env={Mount.Env} size={Mount.SizeLimit}";
}
