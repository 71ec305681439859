using Dbuild.Oci;

namespace Dbuild.Runtime;

/// <summary>
/// One layer of a parent chain: its diffID (the snapshot key is the chain ID computed from these) and a way to open
/// the layer blob (gzip, zstd or plain tar; detected from the bytes). The blob is opened only when the snapshot for
/// the chain does not exist yet.
/// </summary>
public sealed record LayerSource(Digest DiffId, Func<CancellationToken, Task<Stream>> OpenAsync);
