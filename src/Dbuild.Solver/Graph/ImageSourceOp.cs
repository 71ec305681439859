using Dbuild.Oci;
using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Graph;

/// <summary>A base image, resolved during lowering (its manifest digest pins it): the result is its layers.</summary>
internal sealed class ImageSourceOp(BaseImage image, Platform platform) : OpNode
{
    public BaseImage Image { get; } = image;

    public Platform Platform { get; } = platform;

    public override string Kind => "image";

    public override IReadOnlyList<OpNode> Inputs => [];

    public override IReadOnlyList<KeyComponent> Definition =>
        [new("ref", Image.Reference.ToString()), new("manifest", Image.ManifestDigest.ToString()), new("platform", Platform.ToString())];

    public override string Summary => $"image {Image.Reference}@{Image.ManifestDigest} ({Platform})";
}

/// <summary><c>FROM scratch</c>: an empty filesystem.</summary>
internal sealed class ScratchOp(Platform platform) : OpNode
{
    public Platform Platform { get; } = platform;

    public override string Kind => "scratch";

    public override IReadOnlyList<OpNode> Inputs => [];

    public override IReadOnlyList<KeyComponent> Definition => [new("platform", Platform.ToString())];

    public override string Summary => $"scratch ({Platform})";
}
