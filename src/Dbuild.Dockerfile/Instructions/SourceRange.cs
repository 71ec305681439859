namespace Dbuild.Dockerfile;

/// <summary>Where an instruction stands in its Dockerfile (1-based lines; column of the keyword).</summary>
public readonly record struct SourceRange(int StartLine, int EndLine, int Column);
