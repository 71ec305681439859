namespace Dbuild.Runtime;

/// <summary><c>--mount=type=tmpfs</c>: an empty tmpfs, optionally size-limited.</summary>
public sealed record TmpfsMount : StepMount
{
    /// <summary><c>size=</c> in bytes; null = the kernel default (half of RAM).</summary>
    public long? SizeBytes { get; init; }
}
