namespace Dbuild.Dockerfile;

/// <summary><c>CMD</c>.</summary>
public sealed record CmdInstruction : Instruction
{
    /// <summary>The command (exec form may be empty: <c>CMD []</c>).</summary>
    public required CommandLine Command { get; init; }
}

/// <summary><c>ENTRYPOINT</c>.</summary>
public sealed record EntrypointInstruction : Instruction
{
    /// <summary>The command.</summary>
    public required CommandLine Command { get; init; }
}

/// <summary><c>SHELL ["exe", "arg"]</c> (JSON only).</summary>
public sealed record ShellInstruction : Instruction
{
    /// <summary>The shell and its arguments.</summary>
    public required IReadOnlyList<string> Shell { get; init; }
}

/// <summary><c>ENV k=v …</c>.</summary>
public sealed record EnvInstruction : Instruction
{
    /// <summary>The pairs, unexpanded (quotes kept).</summary>
    public required IReadOnlyList<KeyValue> Pairs { get; init; }
}

/// <summary><c>LABEL k=v …</c>.</summary>
public sealed record LabelInstruction : Instruction
{
    /// <summary>The pairs, unexpanded (quotes kept).</summary>
    public required IReadOnlyList<KeyValue> Pairs { get; init; }
}

/// <summary><c>ARG name[=default] …</c>.</summary>
public sealed record ArgInstruction : Instruction
{
    /// <summary>The declared names with their raw defaults.</summary>
    public required IReadOnlyList<ArgDefinition> Args { get; init; }
}

/// <summary><c>EXPOSE port[/proto] …</c>.</summary>
public sealed record ExposeInstruction : Instruction
{
    /// <summary>The ports as written.</summary>
    public required IReadOnlyList<string> Ports { get; init; }
}

/// <summary><c>VOLUME path …</c>.</summary>
public sealed record VolumeInstruction : Instruction
{
    /// <summary>The paths.</summary>
    public required IReadOnlyList<string> Volumes { get; init; }
}

/// <summary><c>USER user[:group]</c>.</summary>
public sealed record UserInstruction : Instruction
{
    /// <summary>The user.</summary>
    public required string User { get; init; }
}

/// <summary><c>WORKDIR path</c>.</summary>
public sealed record WorkdirInstruction : Instruction
{
    /// <summary>The path.</summary>
    public required string Path { get; init; }
}

/// <summary><c>STOPSIGNAL signal</c>.</summary>
public sealed record StopSignalInstruction : Instruction
{
    /// <summary>The signal.</summary>
    public required string Signal { get; init; }
}

/// <summary><c>MAINTAINER name</c> (deprecated).</summary>
public sealed record MaintainerInstruction : Instruction
{
    /// <summary>The maintainer.</summary>
    public required string Maintainer { get; init; }
}

/// <summary><c>ONBUILD instruction</c>: the trigger is stored as text and validated as an instruction.</summary>
public sealed record OnbuildInstruction : Instruction
{
    /// <summary>The trigger's text, e.g. <c>RUN make</c>.</summary>
    public required string Expression { get; init; }

    /// <summary>The trigger, parsed.</summary>
    public required Instruction Trigger { get; init; }
}

/// <summary><c>HEALTHCHECK [options] CMD …</c> or <c>HEALTHCHECK NONE</c>.</summary>
public sealed record HealthcheckInstruction : Instruction
{
    /// <summary>The test as in the image config: <c>["NONE"]</c>, <c>["CMD", …]</c> or <c>["CMD-SHELL", "…"]</c>.</summary>
    public required IReadOnlyList<string> Test { get; init; }

    /// <summary><c>--interval</c>, zero when not set.</summary>
    public TimeSpan Interval { get; init; }

    /// <summary><c>--timeout</c>, zero when not set.</summary>
    public TimeSpan Timeout { get; init; }

    /// <summary><c>--start-period</c>, zero when not set.</summary>
    public TimeSpan StartPeriod { get; init; }

    /// <summary><c>--start-interval</c>, zero when not set.</summary>
    public TimeSpan StartInterval { get; init; }

    /// <summary><c>--retries</c>, zero when not set.</summary>
    public int Retries { get; init; }
}

/// <summary>A keyword BuildKit does not know. Only produced when <see cref="InstructionParser"/> is lenient.</summary>
public sealed record UnknownInstruction : Instruction;
