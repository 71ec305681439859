using Dbuild.Oci;

namespace Dbuild.Cli.Manifests;

/// <summary>A manifest going into a buildx <c>imagetools create</c> index: where it lives, its descriptor fields and platform.</summary>
internal sealed record IndexSource(Reference Repository, string MediaType, Digest Digest, long Size, ListPlatform? Platform);
