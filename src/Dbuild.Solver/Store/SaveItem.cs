namespace Dbuild.Solver.Store;

/// <summary>One image of a <c>save</c>: the image and the names to record for it (none when it was named by ID).</summary>
public sealed record SaveItem(LocalImage Image, IReadOnlyList<string> Names);
