namespace Dbuild.Dockerfile;

/// <summary><c>ADD [--checksum=…] [--keep-git-dir] [--unpack] … src… dest</c>.</summary>
public sealed record AddInstruction : FileInstruction
{
    /// <summary><c>--checksum=sha256:…</c> for a URL or git source, or null.</summary>
    public string? Checksum { get; init; }

    /// <summary><c>--keep-git-dir</c>.</summary>
    public bool KeepGitDir { get; init; }

    /// <summary><c>--unpack</c>: null when not given (archives from the context are unpacked, URLs are not).</summary>
    public bool? Unpack { get; init; }
}
