using System.Security.Cryptography;
using System.Text;
using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// The <c>repository@digest</c> references of local images, as docker's RepoDigests: recorded when an image is pulled
/// from or pushed to a registry. One small file per (image ID, reference) under <c>STATE/repodigests/IMAGEID/</c>, so
/// concurrent dbuild processes never overwrite each other's records.
/// </summary>
public sealed class RepoDigests(ContentStore store)
{
    private readonly string _root = Path.Combine(Path.GetDirectoryName(store.Root)!, "repodigests");

    /// <summary>Records that <paramref name="imageId"/> is <paramref name="repository"/>@<paramref name="digest"/> (the name's tag is ignored).</summary>
    public async Task RecordAsync(Digest imageId, Reference repository, Digest digest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        string reference = $"{repository.Name}@{digest}";
        string directory = Path.Combine(_root, imageId.Encoded);
        string path = Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(reference))));
        if (File.Exists(path)) { return; }
        Directory.CreateDirectory(directory);
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllTextAsync(temp, reference, cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The image's <c>registry/repository@sha256:…</c> references (normalised names), sorted.</summary>
    public async Task<IReadOnlyList<Reference>> GetAsync(Digest imageId, CancellationToken cancellationToken = default)
    {
        string directory = Path.Combine(_root, imageId.Encoded);
        if (!Directory.Exists(directory)) { return []; }
        var references = new List<Reference>();
        foreach (string file in Directory.EnumerateFiles(directory).Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal)))
        {
            if (Reference.TryParse(await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false), out Reference? reference, out _)) { references.Add(reference); }
        }
        return [.. references.OrderBy(r => r.ToString(), StringComparer.Ordinal)];
    }
}
