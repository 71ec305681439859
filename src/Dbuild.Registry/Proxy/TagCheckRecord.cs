using System.Globalization;
using System.Text;
using Dbuild.Oci;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Proxy;

/// <summary>
/// When the cache last asked upstream about a tag, and what the tag named then: a sidecar in storage
/// (<c>docker/registry/v2/_dbuild/proxy/NAME/_tags/TAG</c>, outside the trees registry:2 walks; <c>_</c> cannot start a
/// repository path component, so names and tags never collide). In storage, not memory, so every replica agrees on
/// whether the tag's <c>ttl</c> has run out.
/// </summary>
internal sealed class TagCheckRecord(IStorageDriver store, TimeProvider timeProvider)
{
    internal const string Root = "docker/registry/v2/_dbuild/proxy";

    internal static string PathOf(string name, string tag) => $"{Root}/{name}/_tags/{tag}";

    /// <summary>True when the tag was checked upstream less than <paramref name="ttl"/> ago and named <paramref name="digest"/> then.</summary>
    public async Task<bool> IsFreshAsync(string name, string tag, Digest digest, TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (ttl <= TimeSpan.Zero) { return false; }
        byte[]? content;
        try { content = (await store.ReadAllAsync(PathOf(name, tag), 1024, cancellationToken).ConfigureAwait(false))?.Content; }
        catch (InvalidDataException) { return false; }
        if (content is null) { return false; }
        string[] lines = Encoding.UTF8.GetString(content).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length < 2 || !Digest.TryParse(lines[0], out Digest recorded) || recorded != digest
            || !DateTimeOffset.TryParseExact(lines[1], "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset checkedAt))
        {
            return false;
        }
        TimeSpan age = timeProvider.GetUtcNow() - checkedAt;
        return age >= TimeSpan.Zero && age < ttl;
    }

    /// <summary>Records that upstream named <paramref name="digest"/> for the tag now.</summary>
    public Task RecordAsync(string name, string tag, Digest digest, CancellationToken cancellationToken)
    {
        string text = $"{digest}\n{timeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)}\n";
        return store.WriteAsync(PathOf(name, tag), Encoding.UTF8.GetBytes(text), WriteCondition.None, cancellationToken);
    }
}
