namespace Dbuild.Solver.Store;

/// <summary>One line of what <c>rmi</c> or <c>image prune</c> did, as docker's API reports it: a name untagged or an image deleted.</summary>
public sealed record ImageDeletion(string? Untagged, string? Deleted);
