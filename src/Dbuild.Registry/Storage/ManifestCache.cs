using System.Collections.Concurrent;
using Dbuild.Oci;

namespace Dbuild.Registry.Storage;

/// <summary>
/// Manifest bytes by digest, verified before they are kept. Content-addressed bytes never change, so the cache can
/// never give a stale answer; whether a repository still has the manifest is always read from storage (its revision
/// link), so replicas agree. Bounded by total bytes; when full, arbitrary entries make room.
/// </summary>
internal sealed class ManifestCache(long capacityBytes = ManifestCache.DefaultCapacity)
{
    public const long DefaultCapacity = 64L * 1024 * 1024;

    private readonly ConcurrentDictionary<Digest, Entry> _entries = new();
    private long _bytes;

    public bool TryGet(Digest digest, out byte[] content)
    {
        bool found = _entries.TryGetValue(digest, out Entry? entry);
        content = entry?.Content!;
        return found;
    }

    /// <summary>
    /// The media type <paramref name="detect"/> finds in <paramref name="content"/>, kept with the cached bytes when they
    /// are these bytes (a manifest GET would otherwise parse the JSON every time).
    /// </summary>
    public string MediaTypeOf(Digest digest, byte[] content, Func<ReadOnlyMemory<byte>, string> detect)
    {
        if (!_entries.TryGetValue(digest, out Entry? entry) || !ReferenceEquals(entry.Content, content)) { return detect(content); }
        return entry.MediaType ??= detect(content);
    }

    /// <summary>Keeps <paramref name="content"/> when it really has <paramref name="digest"/>; returns whether it does.</summary>
    public bool Add(Digest digest, byte[] content)
    {
        if (Digest.Compute(content, digest.Algorithm) != digest) { return false; }
        if (content.Length > capacityBytes / 16) { return true; }
        while (Interlocked.Read(ref _bytes) + content.Length > capacityBytes)
        {
            using IEnumerator<KeyValuePair<Digest, Entry>> any = _entries.GetEnumerator();
            if (!any.MoveNext()) { break; }
            if (_entries.TryRemove(any.Current.Key, out Entry? evicted)) { Interlocked.Add(ref _bytes, -evicted.Content.Length); }
        }
        if (_entries.TryAdd(digest, new Entry(content))) { Interlocked.Add(ref _bytes, content.Length); }
        return true;
    }

    private sealed class Entry(byte[] content)
    {
        public byte[] Content { get; } = content;

        public string? MediaType { get; set; }
    }
}
