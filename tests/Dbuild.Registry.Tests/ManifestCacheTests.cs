using System.Text;
using Dbuild.Oci;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Tests;

public sealed class ManifestCacheTests
{
    private static byte[] Manifest(int i) => Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"n\":{i},\"pad\":\"{new string('x', 1000)}\"}}");

    [Fact]
    public void BytesThatDoNotHaveTheDigest_AreNotKept()
    {
        var cache = new ManifestCache();
        byte[] real = Manifest(1);
        Digest digest = Digest.Compute(real);
        Assert.False(cache.Add(digest, Manifest(2)));
        Assert.False(cache.TryGet(digest, out _));
        Assert.True(cache.Add(digest, real));
        Assert.True(cache.TryGet(digest, out byte[] kept));
        Assert.Equal(real, kept);
    }

    [Fact]
    public void StaysWithinItsCapacity()
    {
        var cache = new ManifestCache(capacityBytes: 32 * 1024);
        var digests = new List<Digest>();
        for (int i = 0; i < 200; i++)
        {
            byte[] content = Manifest(i);
            digests.Add(Digest.Compute(content));
            Assert.True(cache.Add(digests[^1], content));
        }
        int kept = digests.Count(d => cache.TryGet(d, out _));
        Assert.InRange(kept, 1, 32 * 1024 / 1000);
        Assert.True(cache.TryGet(digests[^1], out _));
    }

    [Fact]
    public void MediaType_IsDetectedOncePerCachedManifest_AndEveryTimeForOtherBytes()
    {
        var cache = new ManifestCache();
        byte[] content = Manifest(1);
        Digest digest = Digest.Compute(content);
        int calls = 0;
        string Detect(ReadOnlyMemory<byte> bytes) { calls++; return $"type/{bytes.Length}"; }
        Assert.Equal($"type/{content.Length}", cache.MediaTypeOf(digest, content, Detect));
        Assert.True(cache.Add(digest, content));
        Assert.True(cache.TryGet(digest, out byte[] cached));
        Assert.Equal($"type/{content.Length}", cache.MediaTypeOf(digest, cached, Detect));
        Assert.Equal($"type/{content.Length}", cache.MediaTypeOf(digest, cached, Detect));
        Assert.Equal(2, calls); // once before it was cached, once for the cached entry
        byte[] copy = [.. content];
        Assert.Equal($"type/{content.Length}", cache.MediaTypeOf(digest, copy, Detect));
        Assert.Equal(3, calls); // bytes that are not the cached array are never answered from the cache
    }
}
