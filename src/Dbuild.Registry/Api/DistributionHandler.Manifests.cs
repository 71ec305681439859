using System.Buffers;
using Dbuild.Oci;
using Dbuild.Registry.Notifications;
using Dbuild.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Dbuild.Registry.Api;

internal sealed partial class DistributionHandler
{
    /// <summary>
    /// A digest or a tag. A reference that is neither names no manifest: GET, HEAD and DELETE answer 404
    /// MANIFEST_UNKNOWN (the distribution spec lists only 404 there); a PUT to it is 400 TAG_INVALID.
    /// </summary>
    private static (Digest? Digest, string? Tag) ParseReference(string reference, bool put = false)
    {
        if (reference.Contains(':', StringComparison.Ordinal))
        {
            if (put || Digest.TryParse(reference, out _)) { return (ParseDigest(reference), null); }
            throw DistributionErrors.ManifestUnknownError(reference);
        }
        if (DistributionPath.IsValidTag(reference)) { return (null, reference); }
        throw put ? DistributionErrors.TagInvalidError(reference) : DistributionErrors.ManifestUnknownError(reference);
    }

    private async Task GetManifestAsync(HttpContext context, string name, string reference, CancellationToken cancellationToken)
    {
        (Digest? byDigest, string? tag) = ParseReference(reference);
        Digest digest = proxy.Route(name) is { } mirrored
            ? await proxy.GetManifestAsync(mirrored, name, byDigest, tag, cancellationToken).ConfigureAwait(false)
            : byDigest ?? await storage.ResolveTagAsync(name, tag!, cancellationToken).ConfigureAwait(false)
                ?? throw DistributionErrors.ManifestUnknownError(reference);
        byte[] content = await storage.GetManifestAsync(name, digest, cancellationToken).ConfigureAwait(false)
            ?? throw DistributionErrors.ManifestUnknownError(reference);
        // A client that found a child manifest may push an index over it next: refresh its GC age.
        if (!await storage.Markers.VouchAsync(digest, cancellationToken).ConfigureAwait(false)) { throw DistributionErrors.ManifestUnknownError(reference); }
        // The stored bytes go back whatever Accept says: a client that cannot parse them says so itself.
        context.Response.Headers["Docker-Content-Digest"] = digest.ToString();
        context.Response.Headers.ETag = $"\"{digest}\"";
        string mediaType = storage.ManifestMediaType(digest, content);
        await WriteBytesAsync(context, 200, content, mediaType).ConfigureAwait(false);
        await notifier.ManifestAsync(context, NotificationAction.Pull, name, digest, mediaType, content.Length, tag).ConfigureAwait(false);
    }

    private async Task PutManifestAsync(HttpContext context, string name, string reference, CancellationToken cancellationToken)
    {
        (Digest? byDigest, string? tag) = ParseReference(reference, put: true);
        byte[] content = await ReadManifestBodyAsync(context, cancellationToken).ConfigureAwait(false);
        Digest digest = byDigest is { Algorithm: not Digest.Sha256Algorithm } d ? Digest.Compute(content, d.Algorithm) : Digest.Compute(content);
        if (byDigest is { } expected && expected != digest)
        {
            throw DistributionErrors.DigestInvalidError($"the manifest's digest is {digest}, the URL names {expected}");
        }
        ManifestInfo manifest = ManifestInfo.Parse(content, context.Request.ContentType);
        foreach (Digest blob in manifest.Blobs)
        {
            if (!await storage.IsLayerLinkedAsync(name, blob, cancellationToken).ConfigureAwait(false)
                || await storage.StatBlobAsync(blob, cancellationToken).ConfigureAwait(false) is null)
            {
                throw DistributionErrors.ManifestBlobUnknownError(blob.ToString());
            }
        }
        foreach (Digest child in manifest.Children)
        {
            if (!await storage.HasManifestAsync(name, child, cancellationToken).ConfigureAwait(false))
            {
                throw DistributionErrors.ManifestBlobUnknownError(child.ToString());
            }
        }
        await CheckManifestPoliciesAsync(name, tag, digest, content.Length, cancellationToken).ConfigureAwait(false);
        ManifestWrite write = await storage.PutManifestAsync(name, digest, content, tag, cancellationToken).ConfigureAwait(false);
        if (await FindVanishedAsync(name, digest, manifest, cancellationToken).ConfigureAwait(false) is { } vanished)
        {
            await storage.RollbackManifestAsync(write, CancellationToken.None).ConfigureAwait(false);
            throw DistributionErrors.ManifestBlobUnknownError(vanished.ToString());
        }
        HttpResponse response = context.Response;
        response.Headers.Location = $"/v2/{name}/manifests/{digest}";
        response.Headers["Docker-Content-Digest"] = digest.ToString();
        if (manifest.Subject is { } subject) { response.Headers["OCI-Subject"] = subject.ToString(); }
        Empty(context, 201);
        await notifier.ManifestAsync(context, NotificationAction.Push, name, digest, manifest.MediaType, content.Length, tag).ConfigureAwait(false);
    }

    /// <summary>
    /// With online GC: after the revision link is written, vouch for every blob and child and check each is still there.
    /// A GC pass whose mark began before the link existed can only delete a blob it condemned before this vouch, and then
    /// the check here sees it gone; one that began after sees the link. Either way a 201 never names a swept blob
    /// (docs/registry-gc.md). Returns the first digest that vanished, or null.
    /// </summary>
    private async Task<Digest?> FindVanishedAsync(string name, Digest digest, ManifestInfo manifest, CancellationToken cancellationToken)
    {
        if (!storage.Markers.Enabled) { return null; }
        if (!await storage.Markers.VouchAsync(digest, cancellationToken).ConfigureAwait(false)
            || await storage.StatBlobAsync(digest, cancellationToken).ConfigureAwait(false) is null)
        {
            return digest;
        }
        foreach (Digest blob in manifest.Blobs)
        {
            if (!await storage.Markers.VouchAsync(blob, cancellationToken).ConfigureAwait(false)
                || !await storage.IsLayerLinkedAsync(name, blob, cancellationToken).ConfigureAwait(false)
                || await storage.StatBlobAsync(blob, cancellationToken).ConfigureAwait(false) is null)
            {
                return blob;
            }
        }
        foreach (Digest child in manifest.Children)
        {
            if (!await storage.Markers.VouchAsync(child, cancellationToken).ConfigureAwait(false)
                || !await storage.HasManifestAsync(name, child, cancellationToken).ConfigureAwait(false)
                || await storage.StatBlobAsync(child, cancellationToken).ConfigureAwait(false) is null)
            {
                return child;
            }
        }
        return null;
    }

    /// <summary>Manifests are the only buffered content: capped at MaxManifestBytes, 413 beyond.</summary>
    private async Task<byte[]> ReadManifestBodyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        int max = _options.MaxManifestBytes;
        if (context.Request.ContentLength > max) { throw DistributionErrors.ManifestTooLargeError(max); }
        var writer = new ArrayBufferWriter<byte>((int)Math.Min(context.Request.ContentLength ?? 16 * 1024, max) + 1);
        Stream body = context.Request.Body;
        while (true)
        {
            Memory<byte> memory = writer.GetMemory(16 * 1024);
            int read = await body.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
            if (read == 0) { break; }
            writer.Advance(read);
            if (writer.WrittenCount > max) { throw DistributionErrors.ManifestTooLargeError(max); }
        }
        CountBytesIn(context, writer.WrittenCount);
        if (writer.WrittenCount == 0) { throw DistributionErrors.ManifestInvalidError("the body is empty"); }
        return writer.WrittenSpan.ToArray();
    }

    private async Task DeleteManifestAsync(HttpContext context, string name, string reference, CancellationToken cancellationToken)
    {
        (Digest? byDigest, string? tag) = ParseReference(reference);
        if (!_options.DeleteEnabled) { throw DistributionErrors.UnsupportedError("deletion is disabled (storage.delete.enabled)"); }
        await CheckDeletePoliciesAsync(name, byDigest, tag, cancellationToken).ConfigureAwait(false);
        // registry:2 sends a delete event for the manifest and one for each tag that pointed at it.
        IReadOnlyList<string> tags = byDigest is { } d && notifier.Enabled ? await TagsOfAsync(name, d, cancellationToken).ConfigureAwait(false) : [];
        bool deleted = byDigest is { } digest
            ? await storage.DeleteManifestAsync(name, digest, cancellationToken).ConfigureAwait(false)
            : await storage.UntagAsync(name, tag!, cancellationToken).ConfigureAwait(false);
        if (!deleted) { throw DistributionErrors.ManifestUnknownError(reference); }
        Empty(context, 202);
        if (byDigest is not null) { await notifier.DeletedAsync(context, name, byDigest, null).ConfigureAwait(false); }
        foreach (string removed in tag is null ? tags : [tag]) { await notifier.DeletedAsync(context, name, null, removed).ConfigureAwait(false); }
    }

    private async Task<IReadOnlyList<string>> TagsOfAsync(string name, Digest digest, CancellationToken cancellationToken)
    {
        var tags = new List<string>();
        foreach (string tag in await storage.ListTagsAsync(name, cancellationToken).ConfigureAwait(false) ?? [])
        {
            if (await storage.ResolveTagAsync(name, tag, cancellationToken).ConfigureAwait(false) == digest) { tags.Add(tag); }
        }
        return tags;
    }
}
