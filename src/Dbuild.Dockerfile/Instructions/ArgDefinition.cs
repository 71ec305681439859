namespace Dbuild.Dockerfile;

/// <summary>One ARG name with its optional default.</summary>
public sealed record ArgDefinition(string Name, string? DefaultValue);
