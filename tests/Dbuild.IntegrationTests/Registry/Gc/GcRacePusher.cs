using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dbuild.Oci;

namespace Dbuild.IntegrationTests.Registry.Gc;

/// <summary>An image a manifest PUT acknowledged with 201: its digest, and every digest a pull of it needs.</summary>
internal sealed record PushedImage(string Repository, string Tag, Digest Digest, IReadOnlyList<Digest> Children, IReadOnlyList<Digest> Blobs);

/// <summary>What the pushers and the deleter did, shared between them.</summary>
internal sealed class RaceLog
{
    private long _skipped, _uploaded, _reuploaded, _mounted, _refused, _pushed, _deleted;

    public ConcurrentDictionary<string, PushedImage> Alive { get; } = new(StringComparer.Ordinal);

    /// <summary>Keys of <see cref="Alive"/> in the order they were acknowledged (the deleter takes the oldest first).</summary>
    public ConcurrentQueue<string> Order { get; } = new();

    public ConcurrentQueue<string> Unexpected { get; } = new();

    /// <summary>Problems found pulling an acknowledged image (the deleter pulls each one before deleting it).</summary>
    public ConcurrentQueue<string> Broken { get; } = new();

    /// <summary>(repository, digest) pairs uploaded at least once: a second upload means the blob or its link was swept meanwhile.</summary>
    public ConcurrentDictionary<(string, Digest), int> Uploads { get; } = new();

    public long Skipped => Interlocked.Read(ref _skipped);
    public long Uploaded => Interlocked.Read(ref _uploaded);
    public long Reuploaded => Interlocked.Read(ref _reuploaded);
    public long Mounted => Interlocked.Read(ref _mounted);
    public long Refused => Interlocked.Read(ref _refused);
    public long Pushed => Interlocked.Read(ref _pushed);
    public long Deleted => Interlocked.Read(ref _deleted);

    public void CountSkipped() => Interlocked.Increment(ref _skipped);
    public void CountMounted() => Interlocked.Increment(ref _mounted);
    public void CountRefused() => Interlocked.Increment(ref _refused);
    public void CountPushed() => Interlocked.Increment(ref _pushed);
    public void CountDeleted() => Interlocked.Increment(ref _deleted);

    public void CountUpload(string repository, Digest digest)
    {
        Interlocked.Increment(ref _uploaded);
        if (Uploads.AddOrUpdate((repository, digest), 1, (_, n) => n + 1) > 1) { Interlocked.Increment(ref _reuploaded); }
    }

    public override string ToString() =>
        $"pushed {Pushed}, deleted {Deleted} (each pulled first), alive {Alive.Count}, refused {Refused}, HEAD skips {Skipped}, uploads {Uploaded} "
        + $"(again after a sweep: {Reuploaded}), mounts {Mounted}, unexpected {Unexpected.Count}";
}

/// <summary>
/// One pushing client, as docker pushes: HEAD each blob and skip it on 200, else mount it from another repository or
/// upload it (POST + PUT), wait a little, then PUT the manifest. Layers come from a shared pool: most from a window
/// of it that moves every 3 s and comes back every 12 s (so the deleter orphans a window's layers, GC sweeps them, and
/// later pushes upload them again), the rest from anywhere in the pool (so orphaned, old layers are found by HEAD
/// while GC is about to sweep them). Some pushes are an index over two children pushed by digest.
/// </summary>
internal sealed class GcRacePusher(HttpClient client, string baseUrl, RaceLog log, int id, DateTimeOffset start)
{
    public static readonly string[] Repositories = ["race/a", "race/b", "race/c"];
    private const int PoolSize = 24;
    private const int WindowSize = 6;
    private readonly Random _random = new(id);
    private int _count;

    /// <summary>Pool layer <paramref name="index"/>: fixed bytes, the same in every pusher.</summary>
    private static byte[] PoolLayer(int index)
    {
        var bytes = new byte[2048 + index];
        new Random(1000 + index).NextBytes(bytes);
        return bytes;
    }

    public async Task RunAsync(DateTimeOffset until, CancellationToken cancellationToken)
    {
        while (DateTimeOffset.UtcNow < until)
        {
            string repository = Repositories[_random.Next(Repositories.Length)];
            string tag = $"p{id}-{++_count}";
            if (_random.NextDouble() < 0.2) { await PushIndexAsync(repository, tag, cancellationToken); }
            else if (await PushImageAsync(repository, tag, cancellationToken) is { } pushed) { Acknowledge(pushed.Image); }
        }
    }

    private void Acknowledge(PushedImage image)
    {
        log.CountPushed();
        string key = $"{image.Repository}:{image.Tag}";
        log.Alive[key] = image;
        log.Order.Enqueue(key);
    }

    private async Task PushIndexAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        var children = new List<(PushedImage Image, int Size)>();
        for (int i = 0; i < 2; i++)
        {
            if (await PushImageAsync(repository, null, cancellationToken) is not { } child) { return; }
            children.Add(child);
        }
        string index = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciIndex}\",\"manifests\":["
            + string.Join(",", children.Select(c => $"{{\"mediaType\":\"{MediaTypes.OciManifest}\",\"digest\":\"{c.Image.Digest}\",\"size\":{c.Size}}}")) + "]}";
        byte[] bytes = Encoding.UTF8.GetBytes(index);
        if (await PutManifestAsync(repository, tag, bytes, MediaTypes.OciIndex, cancellationToken))
        {
            Acknowledge(new PushedImage(repository, tag, Digest.Compute(bytes), [.. children.Select(c => c.Image.Digest)], [.. children.SelectMany(c => c.Image.Blobs)]));
        }
    }

    /// <summary>Pushes one image (with a null tag: by digest, as an index child); returns it with its manifest's size.</summary>
    private async Task<(PushedImage Image, int Size)?> PushImageAsync(string repository, string? tag, CancellationToken cancellationToken)
    {
        byte[] config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"comment\":\"race {id}-{_count}-{Guid.NewGuid():N}\"}}");
        var layers = new List<byte[]>();
        int window = (int)((DateTimeOffset.UtcNow - start).TotalSeconds / 3) % (PoolSize / WindowSize);
        var chosen = new HashSet<int>();
        for (int i = _random.Next(1, 4); i > 0; i--)
        {
            chosen.Add(_random.NextDouble() < 0.85 ? window * WindowSize + _random.Next(WindowSize) : _random.Next(PoolSize));
        }
        foreach (int index in chosen) { layers.Add(PoolLayer(index)); }
        var blobs = new List<Digest>();
        foreach (byte[] blob in (IEnumerable<byte[]>)[config, .. layers])
        {
            blobs.Add(await EnsureBlobAsync(repository, blob, cancellationToken));
        }
        await Task.Delay(_random.Next(0, 1200), cancellationToken); // the client's own pace between its HEADs and its manifest
        string manifest = $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{Descriptor(MediaTypes.OciConfig, config)},"
            + $"\"layers\":[{string.Join(",", layers.Select(l => Descriptor(MediaTypes.OciLayerGzip, l)))}]}}";
        byte[] bytes = Encoding.UTF8.GetBytes(manifest);
        Digest digest = Digest.Compute(bytes);
        if (!await PutManifestAsync(repository, tag ?? digest.ToString(), bytes, MediaTypes.OciManifest, cancellationToken)) { return null; }
        return (new PushedImage(repository, tag ?? digest.ToString(), digest, [], blobs), bytes.Length);
    }

    private static string Descriptor(string mediaType, byte[] content) =>
        $"{{\"mediaType\":\"{mediaType}\",\"digest\":\"{Digest.Compute(content)}\",\"size\":{content.Length}}}";

    private async Task<Digest> EnsureBlobAsync(string repository, byte[] content, CancellationToken cancellationToken)
    {
        Digest digest = Digest.Compute(content);
        using (var head = new HttpRequestMessage(HttpMethod.Head, $"{baseUrl}/v2/{repository}/blobs/{digest}"))
        using (HttpResponseMessage found = await client.SendAsync(head, cancellationToken))
        {
            if (found.StatusCode == HttpStatusCode.OK) { log.CountSkipped(); return digest; }
        }
        string from = Repositories[_random.Next(Repositories.Length)];
        string start = from != repository && _random.NextDouble() < 0.3
            ? $"{baseUrl}/v2/{repository}/blobs/uploads/?mount={digest}&from={from}"
            : $"{baseUrl}/v2/{repository}/blobs/uploads/";
        using HttpResponseMessage started = await client.PostAsync(start, null, cancellationToken);
        if (started.StatusCode == HttpStatusCode.Created) { log.CountMounted(); return digest; }
        if (started.StatusCode != HttpStatusCode.Accepted || started.Headers.Location is not { } location)
        {
            throw new InvalidOperationException($"POST {start} answered {(int)started.StatusCode}");
        }
        string target = location.IsAbsoluteUri ? location.ToString() : baseUrl + location;
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage put = await client.PutAsync($"{target}{(target.Contains('?', StringComparison.Ordinal) ? '&' : '?')}digest={digest}", body, cancellationToken);
        if (put.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"upload of {digest} to {repository} answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync(cancellationToken)}");
        }
        log.CountUpload(repository, digest);
        return digest;
    }

    /// <summary>True on 201. A clean refusal (400 MANIFEST_BLOB_UNKNOWN) is counted; anything else is unexpected.</summary>
    private async Task<bool> PutManifestAsync(string repository, string reference, byte[] bytes, string mediaType, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using HttpResponseMessage put = await client.PutAsync($"{baseUrl}/v2/{repository}/manifests/{reference}", content, cancellationToken);
        if (put.StatusCode == HttpStatusCode.Created) { return true; }
        string answer = await put.Content.ReadAsStringAsync(cancellationToken);
        if (put.StatusCode == HttpStatusCode.BadRequest && answer.Contains("MANIFEST_BLOB_UNKNOWN", StringComparison.Ordinal)) { log.CountRefused(); }
        else { log.Unexpected.Enqueue($"PUT {repository}:{reference} answered {(int)put.StatusCode}: {answer}"); }
        return false;
    }

    /// <summary>
    /// The deleter: every few tens of milliseconds pulls the oldest acknowledged image (it must be whole) and deletes it
    /// by digest, keeping a dozen.
    /// </summary>
    public static async Task DeleteAsync(HttpClient client, string baseUrl, RaceLog log, int seed, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        while (DateTimeOffset.UtcNow < until)
        {
            await Task.Delay(random.Next(5, 30), cancellationToken);
            if (log.Alive.Count < 12 || !log.Order.TryDequeue(out string? key) || !log.Alive.TryGetValue(key, out PushedImage? image)) { continue; }
            foreach (string problem in await ImageChecker.FindProblemsAsync(client, baseUrl, image, cancellationToken)) { log.Broken.Enqueue(problem); }
            log.Alive.TryRemove(key, out _);
            using HttpResponseMessage deleted = await client.DeleteAsync($"{baseUrl}/v2/{image.Repository}/manifests/{image.Digest}", cancellationToken);
            if (deleted.StatusCode == HttpStatusCode.Accepted) { log.CountDeleted(); }
            else { log.Unexpected.Enqueue($"DELETE {image.Repository}@{image.Digest} answered {(int)deleted.StatusCode}"); }
        }
    }
}
