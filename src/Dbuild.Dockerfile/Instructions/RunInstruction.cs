namespace Dbuild.Dockerfile;

/// <summary><c>RUN [--mount=…] [--network=…] [--security=…] command</c>.</summary>
public sealed record RunInstruction : Instruction
{
    /// <summary>The command.</summary>
    public required CommandLine Command { get; init; }

    /// <summary>Mounts from <c>--mount</c>, defaults applied.</summary>
    public IReadOnlyList<RunMount> Mounts { get; init; } = [];

    /// <summary>The raw <c>--mount</c> values (expand them with <see cref="RunMount.Parse"/> once ARGs are known).</summary>
    public IReadOnlyList<string> MountSpecs { get; init; } = [];

    /// <summary><c>--network</c>: default, none or host.</summary>
    public NetworkMode Network { get; init; } = NetworkMode.Default;

    /// <summary><c>--security</c>: sandbox or insecure.</summary>
    public SecurityMode Security { get; init; } = SecurityMode.Sandbox;

    /// <summary>Here-documents; with <c>RUN &lt;&lt;EOF</c> the first is the script.</summary>
    public IReadOnlyList<Heredoc> Heredocs { get; init; } = [];

    /// <summary>
    /// The heredoc that is the whole script (<c>RUN &lt;&lt;EOF</c> with nothing else on the line), or null when the
    /// command is an ordinary one (heredocs then feed its file descriptors).
    /// </summary>
    public Heredoc? Script => Command.PrependShell && Heredocs.Count > 0 && Command.Arguments.Count == 1
        && Dbuild.Dockerfile.Heredocs.Find(Heredocs, GoText.TrimSpace(Command.Arguments[0])) is { FileDescriptor: 0 } h ? h : null;
}
