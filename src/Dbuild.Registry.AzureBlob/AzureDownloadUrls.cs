using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;

namespace Dbuild.Registry.AzureBlob;

/// <summary>
/// Read-only SAS URLs for blob GET redirects: signed with the account key when the client has one, otherwise with a
/// user delegation key (token credentials; the identity needs "Storage Blob Delegator" or a data role). The delegation
/// key is reused until shortly before it expires; it only signs, it never changes what a URL grants.
/// </summary>
internal sealed class AzureDownloadUrls(BlobServiceClient service, TimeProvider timeProvider)
{
    /// <summary>How long a fetched user delegation key is used for signing (it is requested valid for longer).</summary>
    private static readonly TimeSpan DelegationKeyReuse = TimeSpan.FromHours(1);

    /// <summary>Clocks of the registry and of Azure differ a little; a URL is valid from slightly before now.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Replaced whole (a reference write is atomic); two replicas of a fetch racing is harmless.</summary>
    private DelegationKey? _delegation;
    /// <summary>Until when a refused delegation key is not asked for again (a role granted later is picked up then).</summary>
    private long _refusedUntilTicks;

    public async Task<Uri?> GetAsync(BlobClient blob, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        DateTimeOffset now = timeProvider.GetUtcNow();
        if (blob.CanGenerateSasUri)
        {
            return blob.GenerateSasUri(BlobSasPermissions.Read, now + lifetime);
        }
        UserDelegationKey? key = await GetDelegationKeyAsync(now, lifetime, cancellationToken).ConfigureAwait(false);
        if (key is null) { return null; }
        var sas = new BlobSasBuilder(BlobSasPermissions.Read, now + lifetime)
        {
            BlobContainerName = blob.BlobContainerName,
            BlobName = blob.Name,
            Resource = "b",
            StartsOn = now - ClockSkew,
        };
        var uri = new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key, service.AccountName) };
        return uri.ToUri();
    }

    private async Task<UserDelegationKey?> GetDelegationKeyAsync(DateTimeOffset now, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        if (now.UtcTicks < Volatile.Read(ref _refusedUntilTicks)) { return null; }
        if (_delegation is { } current && current.UseUntil > now) { return current.Key; }
        try
        {
            UserDelegationKey key = (await service.GetUserDelegationKeyAsync(now - ClockSkew, now + DelegationKeyReuse + lifetime + ClockSkew,
                cancellationToken).ConfigureAwait(false)).Value;
            _delegation = new DelegationKey(key, now + DelegationKeyReuse);
            return key;
        }
        catch (RequestFailedException ex) when (ex.Status is 403 or 400)
        {
            Volatile.Write(ref _refusedUntilTicks, (now + TimeSpan.FromMinutes(10)).UtcTicks); // no permission for delegation keys: serve bytes through the registry meanwhile
            return null;
        }
    }

    private sealed record DelegationKey(UserDelegationKey Key, DateTimeOffset UseUntil);
}
