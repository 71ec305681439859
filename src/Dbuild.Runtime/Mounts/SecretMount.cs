namespace Dbuild.Runtime;

/// <summary>
/// <c>--mount=type=secret</c>: the secret's bytes as a file (on a private tmpfs, never in the layer), and/or as an
/// environment variable. <see cref="StepMount.Target"/> defaults to <c>/run/secrets/&lt;id&gt;</c> in the solver;
/// set <see cref="FileMount"/> false for an env-only secret.
/// </summary>
public sealed record SecretMount : StepMount
{
    /// <summary>The secret id (<c>--secret id=…</c>).</summary>
    public required string Id { get; init; }

    /// <summary>The secret value. Never logged, never in a cache key.</summary>
    public required ReadOnlyMemory<byte> Value { get; init; }

    /// <summary>Mount it as a file at <see cref="StepMount.Target"/>.</summary>
    public bool FileMount { get; init; } = true;

    /// <summary><c>env=NAME</c>: also expose the value (as UTF-8 text) in this environment variable.</summary>
    public string? EnvironmentVariable { get; init; }

    /// <summary>File mode.</summary>
    public UnixFileMode Mode { get; init; } = UnixFileMode.UserRead; // 0400

    /// <summary>File owner uid.</summary>
    public int Uid { get; init; }

    /// <summary>File owner gid.</summary>
    public int Gid { get; init; }
}
