using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// One image in the local store, as <c>dbuild images</c> lists it: the name, what it points to (a manifest or an index),
/// and for the image it stands for (an index's stored platform image) the config digest, creation time, size and platform.
/// </summary>
public sealed record LocalImage(string Name, Descriptor Manifest, Digest ImageId, DateTimeOffset? Created, long Size)
{
    /// <summary>The platform the image's config names.</summary>
    public Platform? Platform { get; init; }

    /// <summary>An image no name points to any more (its <see cref="Name"/> is empty): docker's <c>&lt;none&gt;:&lt;none&gt;</c>.</summary>
    public bool Dangling { get; init; }
}
