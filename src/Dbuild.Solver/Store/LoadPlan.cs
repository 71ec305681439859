using Dbuild.Oci;

namespace Dbuild.Solver.Store;

/// <summary>
/// What a checked archive adds to the store: staged blobs to commit, documents dbuild wrote for it (a docker-archive
/// image's manifest), and each image's top descriptor with the names it gets (none: a dangling image).
/// </summary>
internal sealed class LoadPlan
{
    public List<(StagedFile File, string MediaType)> Blobs { get; } = [];

    public List<(byte[] Bytes, string MediaType)> Documents { get; } = [];

    public List<(Descriptor Top, IReadOnlyList<Reference> Names)> Images { get; } = [];
}
