using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// What a push of a stored image sent: the manifest or index the tag now names (digest and size, as docker prints them),
/// and, when only part of an index was stored, the index that was not pushed in its place.
/// </summary>
public sealed record PushResult(Digest Digest, long Size, Digest? IndexNotPushed = null);
