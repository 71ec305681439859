using Dbuild.Oci;
using Dbuild.Registry.Storage;

namespace Dbuild.IntegrationTests.Registry.Gc;

/// <summary>What a registry storage holds, read through its driver: blob data, layer links, revision links, uploads.</summary>
internal sealed record StoredState(HashSet<Digest> Blobs, HashSet<Digest> LayerLinks, HashSet<Digest> Revisions, HashSet<string> Uploads)
{
    private const string V2 = "docker/registry/v2";

    public static async Task<StoredState> ReadAsync(IStorageDriver driver, CancellationToken cancellationToken)
    {
        var state = new StoredState([], [], [], []);
        await foreach (StorageEntry entry in driver.WalkAsync($"{V2}/blobs", cancellationToken))
        {
            string[] parts = entry.Path.Split('/');
            if (parts[^1] == "data" && Digest.TryParse($"{parts[^4]}:{parts[^2]}", out Digest digest)) { state.Blobs.Add(digest); }
        }
        await foreach (StorageEntry entry in driver.WalkAsync($"{V2}/repositories", cancellationToken))
        {
            string[] parts = entry.Path.Split('/');
            int uploads = Array.IndexOf(parts, "_uploads");
            if (uploads >= 0) { state.Uploads.Add(string.Join('/', parts[..(uploads + 2)])); continue; }
            if (parts[^1] != "link" || !Digest.TryParse($"{parts[^3]}:{parts[^2]}", out Digest digest)) { continue; }
            if (parts.Length > 4 && parts[^4] == "_layers") { state.LayerLinks.Add(digest); }
            else if (parts.Length > 5 && parts[^4] == "revisions" && parts[^5] == "_manifests") { state.Revisions.Add(digest); }
        }
        return state;
    }

    /// <summary>True when nothing but <paramref name="referenced"/> digests is stored or linked, and no upload is left.</summary>
    public bool OnlyHolds(IReadOnlySet<Digest> referenced) =>
        Blobs.IsSubsetOf(referenced) && LayerLinks.IsSubsetOf(referenced) && Revisions.IsSubsetOf(referenced) && Uploads.Count == 0;
}
