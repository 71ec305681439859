using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Graph;

/// <summary>
/// <c>COPY --link</c>'s merge (BuildKit's MergeOp): the layers of <see cref="Upper"/> (a copy onto scratch) stacked on
/// <see cref="Lower"/>'s, so the copied layer does not depend on what is below it and is reused when that changes.
/// </summary>
internal sealed class MergeOp(OpNode lower, OpNode upper) : OpNode
{
    public OpNode Lower { get; } = lower;

    public OpNode Upper { get; } = upper;

    public override string Kind => "merge";

    public override IReadOnlyList<OpNode> Inputs => [Lower, Upper];

    public override IReadOnlyList<KeyComponent> Definition => [];
}
