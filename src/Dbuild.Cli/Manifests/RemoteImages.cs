using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Solver;
using Dbuild.Registry.Client;

namespace Dbuild.Cli.Manifests;

/// <summary>Registry-side steps shared by <c>manifest</c> and <c>imagetools</c>: read an image's manifest and platform, copy a manifest between repositories.</summary>
internal sealed class RemoteImages(RegistryClient client)
{
    /// <summary>The manifest <paramref name="image"/> names and the platform its config declares; an index is refused, as docker does.</summary>
    public async Task<ManifestListEntry> FetchImageAsync(Reference image, CancellationToken cancellationToken)
    {
        ManifestResponse response = await client.GetManifestAsync(image.Registry, image.Repository, image.ManifestReference, cancellationToken);
        if (MediaTypes.IsIndex(response.MediaType)) { throw new BuildException($"{image} is a manifest list"); }
        if (!MediaTypes.IsManifest(response.MediaType)) { throw new BuildException($"{image}: unsupported manifest media type {response.MediaType}"); }
        ImageManifest manifest = ImageManifest.Parse(response.Content.Span);
        byte[] config = await ReadSmallBlobAsync(image, manifest.Config, cancellationToken);
        using JsonDocument document = JsonDocument.Parse(config);
        ListPlatform platform = ListPlatform.FromJson(document.RootElement);
        return new ManifestListEntry(image, response.MediaType, response.Content.ToArray(), platform);
    }

    /// <summary>
    /// Makes <paramref name="manifest"/> (of <paramref name="source"/>) available by digest in <paramref name="target"/>'s
    /// repository: its blobs mounted (or streamed across when the mount is refused or the registries differ), then the
    /// manifest pushed by digest. False when the target repository is the source's: nothing to copy.
    /// </summary>
    public async Task<bool> CopyManifestAsync(Reference source, string mediaType, ReadOnlyMemory<byte> manifest, Reference target, CancellationToken cancellationToken)
    {
        if (source.Registry == target.Registry && source.Repository == target.Repository) { return false; }
        if (MediaTypes.IsIndex(mediaType))
        {
            foreach (Descriptor child in ImageIndex.Parse(manifest.Span).Manifests)
            {
                ManifestResponse inner = await client.GetManifestAsync(source.Registry, source.Repository, child.Digest.ToString(), cancellationToken);
                await CopyManifestAsync(source, inner.MediaType, inner.Content, target, cancellationToken);
            }
        }
        else
        {
            ImageManifest image = ImageManifest.Parse(manifest.Span);
            foreach (Descriptor blob in image.Layers.Prepend(image.Config).DistinctBy(b => b.Digest))
            {
                if (MediaTypes.IsForeignLayer(blob.MediaType)) { continue; }
                var upload = new BlobUpload(blob.Digest, blob.Size, () => new RemoteBlobStream(token =>
                    client.OpenBlobAsync(source.Registry, source.Repository, blob.Digest, blob.Size, token)))
                {
                    MountFrom = source.Registry == target.Registry ? source.Repository : null,
                };
                await client.PushBlobAsync(target.Registry, target.Repository, upload, cancellationToken);
            }
        }
        var copied = new ManifestUpload(mediaType, manifest);
        await client.PushManifestAsync(target.Registry, target.Repository, copied.Digest.ToString(), copied, cancellationToken);
        return true;
    }

    private async Task<byte[]> ReadSmallBlobAsync(Reference image, Descriptor blob, CancellationToken cancellationToken)
    {
        if (blob.Size > 4 * 1024 * 1024) { throw new BuildException($"{image}: config {blob.Digest} is larger than 4 MiB."); }
        await using Stream stream = await client.OpenBlobAsync(image.Registry, image.Repository, blob.Digest, blob.Size, cancellationToken);
        using var buffer = new MemoryStream((int)blob.Size); // a config: small and capped above
        await stream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }
}
