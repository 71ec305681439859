using Dbuild.Oci;

namespace Dbuild.Registry.Api;

/// <summary>The hooks of <c>policies.*</c> on the write paths (Policies/): each check runs before anything is stored.</summary>
internal sealed partial class DistributionHandler
{
    /// <summary>Before a manifest PUT: an immutable tag stays where it is, and a new revision must fit the quota.</summary>
    private async Task CheckManifestPoliciesAsync(string name, string? tag, Digest digest, int size, CancellationToken cancellationToken)
    {
        if (tag is not null) { await immutableTags.CheckPutAsync(name, tag, digest, cancellationToken).ConfigureAwait(false); }
        if (quotas.Applies(name) && !await storage.HasManifestAsync(name, digest, cancellationToken).ConfigureAwait(false))
        {
            await quotas.CheckAsync(name, digest, size, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Before a DELETE of a tag or of a manifest revision (which takes its tags along).</summary>
    private Task CheckDeletePoliciesAsync(string name, Digest? digest, string? tag, CancellationToken cancellationToken) => digest is { } d
        ? immutableTags.CheckDeleteManifestAsync(name, d, cancellationToken)
        : immutableTags.CheckDeleteTagAsync(name, tag!, cancellationToken);

    /// <summary>
    /// Before an upload is moved into place: a blob over quota is refused and its upload deleted, so the refused push
    /// leaves no blob, no link and no upload behind.
    /// </summary>
    private async Task CheckUploadQuotaAsync(string name, string id, Digest expected, CancellationToken cancellationToken)
    {
        if (!quotas.Applies(name)) { return; }
        long size = await storage.GetUploadSizeAsync(name, id, cancellationToken).ConfigureAwait(false) ?? throw DistributionErrors.BlobUploadUnknownError(id);
        try { await quotas.CheckAsync(name, expected, size, cancellationToken).ConfigureAwait(false); }
        catch (DistributionException)
        {
            await storage.CancelUploadAsync(name, id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Before a cross-repository mount links an existing blob into <paramref name="name"/>.</summary>
    private async Task CheckMountQuotaAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        if (!quotas.Applies(name)) { return; }
        if (await storage.StatBlobAsync(digest, cancellationToken).ConfigureAwait(false) is { } size)
        {
            await quotas.CheckAsync(name, digest, size, cancellationToken).ConfigureAwait(false);
        }
    }
}
