using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// What <c>dbuild pull</c> stored: what the name now points to (the index for a multi-platform image, whose digest docker
/// prints), and docker's warning when a single-platform image does not match the platform asked for.
/// </summary>
public sealed record PulledImage(Descriptor Top, string? Warning);
