namespace Dbuild.Dockerfile;

/// <summary><c>COPY [--from=stage|image] … src… dest</c>.</summary>
public sealed record CopyInstruction : FileInstruction
{
    /// <summary><c>--from</c>: a stage name or index, or an image; null for the build context.</summary>
    public string? From { get; init; }
}
