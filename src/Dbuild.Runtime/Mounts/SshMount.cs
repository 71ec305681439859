namespace Dbuild.Runtime;

/// <summary>
/// <c>--mount=type=ssh</c>: forwards an SSH agent socket into the step. The solver sets <see cref="StepMount.Target"/>
/// (BuildKit's default is <c>/run/buildkit/ssh_agent.N</c>); <c>SSH_AUTH_SOCK</c> is set to it when <see cref="SetAuthSock"/>.
/// </summary>
public sealed record SshMount : StepMount
{
    /// <summary>The ssh id (<c>--ssh default=…</c>).</summary>
    public string Id { get; init; } = "default";

    /// <summary>Host path of the agent socket (from <c>--ssh default=$SSH_AUTH_SOCK</c>).</summary>
    public required string SocketPath { get; init; }

    /// <summary>Socket mode inside the step.</summary>
    public UnixFileMode Mode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite; // 0600

    /// <summary>Socket owner uid.</summary>
    public int Uid { get; init; }

    /// <summary>Socket owner gid.</summary>
    public int Gid { get; init; }

    /// <summary>Set <c>SSH_AUTH_SOCK</c> to the target (BuildKit does for the first ssh mount).</summary>
    public bool SetAuthSock { get; init; } = true;
}
