using Dbuild.Oci;

namespace Dbuild.Runtime;

/// <summary>Everything one RUN step needs. The solver has already expanded ARG/ENV and chosen shell or exec form.</summary>
public sealed record StepRequest
{
    /// <summary>The parent image's layers, base first. Empty for <c>FROM scratch</c>.</summary>
    public required IReadOnlyList<LayerSource> Layers { get; init; }

    /// <summary>The process's argv, e.g. <c>["/bin/sh", "-c", "make"]</c> for the shell form.</summary>
    public required IReadOnlyList<string> Args { get; init; }

    /// <summary><c>KEY=VALUE</c> pairs: image ENV plus the ARGs in scope. PATH defaults to the usual one when absent.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Absolute working directory (WORKDIR); created in the rootfs if missing.</summary>
    public string WorkingDirectory { get; init; } = "/";

    /// <summary>USER: <c>name</c>, <c>uid</c>, <c>name:group</c> or <c>uid:gid</c>; resolved in the rootfs's /etc/passwd and /etc/group. Null or empty = root.</summary>
    public string? User { get; init; }

    /// <summary>The container's hostname.</summary>
    public string Hostname { get; init; } = "buildkitsandbox";

    /// <summary>Network mode.</summary>
    public StepNetwork Network { get; init; } = StepNetwork.Default;

    /// <summary>Sandbox (the default) or insecure; the solver grants insecure only with the <c>security.insecure</c> entitlement.</summary>
    public StepSecurity Security { get; init; } = StepSecurity.Sandbox;

    /// <summary>Extra /etc/hosts lines (<c>--add-host</c>): host name to address.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraHosts { get; init; } = [];

    /// <summary>RUN <c>--mount</c>s. Their contents never become part of the layer.</summary>
    public IReadOnlyList<StepMount> Mounts { get; init; } = [];

    /// <summary>Live output, one call per line, from a background thread. Secrets are never passed here by the executor itself.</summary>
    public Action<StepOutputLine>? Output { get; init; }

    /// <summary>What to call the step in errors, e.g. <c>RUN make</c>. Defaults to the joined <see cref="Args"/>.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Compression of the resulting layer; null = <see cref="StepExecutorOptions.Compression"/>.</summary>
    public LayerCompression? Compression { get; init; }

    /// <summary>
    /// Keep what the step changed as the snapshot with this id, and write no layer tar (the exporter writes one, if an
    /// image needs the layer, with <see cref="IStepExecutor.WriteLayerAsync"/>). Only when <see cref="IStepExecutor.UsesSnapshotsAsync"/> is true.
    /// </summary>
    public Digest? KeepSnapshot { get; init; }

    /// <summary>SOURCE_DATE_EPOCH: clamp file mtimes in the layer to this time; null = keep them.</summary>
    public DateTimeOffset? SourceDateEpoch { get; init; }
}
