using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dbuild.Oci;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

/// <summary><c>dbuild registry serve</c> as a process: chunked uploads over real HTTP, config errors, graceful shutdown.</summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryServeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ChunkedUpload_WithContentRange_OverRealHttp()
    {
        using var work = new TempDirectory();
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct);
        using var client = new HttpClient { BaseAddress = new Uri(registry.BaseUrl) };
        byte[] data = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 123);
        using HttpResponseMessage start = await client.PostAsync("/v2/chunked/blobs/uploads/", null, Ct);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        Uri location = start.Headers.Location!;
        const int chunk = 1024 * 1024;
        for (int offset = 0; offset < data.Length; offset += chunk)
        {
            int end = Math.Min(offset + chunk, data.Length) - 1;
            using var content = new ByteArrayContent(data, offset, end - offset + 1);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{end}");
            using HttpResponseMessage patch = await client.PatchAsync(location, content, Ct);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            Assert.Equal($"0-{end}", patch.Headers.GetValues("Range").Single());
            location = patch.Headers.Location!;
        }
        using var gap = new ByteArrayContent([1, 2, 3]);
        gap.Headers.TryAddWithoutValidation("Content-Range", $"{data.Length + 10}-{data.Length + 12}");
        using HttpResponseMessage gapResponse = await client.PatchAsync(location, gap, Ct);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, gapResponse.StatusCode);

        Digest digest = Digest.Compute(data);
        using HttpResponseMessage put = await client.PutAsync($"{location}?digest={digest}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/v2/chunked/blobs/{digest}");
        ranged.Headers.Range = new RangeHeaderValue(chunk, chunk + 99);
        using HttpResponseMessage part = await client.SendAsync(ranged, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(data[chunk..(chunk + 100)], await part.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(data, await client.GetByteArrayAsync($"/v2/chunked/blobs/{digest}", Ct));
    }

    [Fact]
    public async Task LargeUpload_PastKestrelsDefaultLimit_StreamsWithFlatMemory()
    {
        using var work = new TempDirectory();
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct);
        using var client = new HttpClient { BaseAddress = new Uri(registry.BaseUrl), Timeout = TimeSpan.FromMinutes(3) };
        const long size = 300L * 1024 * 1024; // far above the 16 MiB limit every non-upload request keeps
        byte[] block = RandomNumberGenerator.GetBytes(1024 * 1024);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long i = 0; i < size / block.Length; i++) { hash.AppendData(block); }
        Digest digest = Digest.FromSha256(hash.GetHashAndReset());
        using var content = new StreamContent(new RepeatingStream(block, size));
        content.Headers.ContentLength = size;
        using HttpResponseMessage post = await client.PostAsync($"/v2/big/blobs/uploads/?digest={digest}", content, Ct);
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        Assert.True(File.Exists(Path.Combine(registry.StorageRoot, "docker", "registry", "v2", "blobs", "sha256", digest.Encoded[..2], digest.Encoded, "data")));
        long peakKb = long.Parse(File.ReadLines($"/proc/{registry.ProcessId}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(peakKb < 150 * 1024, $"peak RSS {peakKb / 1024} MB after a {size >> 20} MiB upload");

        // A manifest is not an upload: over 4 MiB it is refused with 413 before being read.
        using var manifest = new ByteArrayContent(new byte[5 * 1024 * 1024]);
        manifest.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using HttpResponseMessage put = await client.PutAsync("/v2/big/manifests/v1", manifest, Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, put.StatusCode);
    }

    [Fact]
    public async Task Serve_WithoutConfig_UsesTheStateRootAndRegistryEnvironmentVariables()
    {
        using var work = new TempDirectory();
        int port = RegistryServer.FreePort();
        var environment = new Dictionary<string, string> { ["REGISTRY_HTTP_ADDR"] = $"127.0.0.1:{port}" };
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(["--root", work.Path, "registry", "serve"], environment, port,
            work.Combine("registry"), Ct);
        using var client = new HttpClient { BaseAddress = new Uri(registry.BaseUrl) };
        byte[] data = RandomNumberGenerator.GetBytes(100);
        using HttpResponseMessage post = await client.PostAsync($"/v2/default/blobs/uploads/?digest={Digest.Compute(data)}", new ByteArrayContent(data), Ct);
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        Assert.True(Directory.Exists(work.Combine("registry", "docker", "registry", "v2", "blobs")), registry.Output);
    }

    [Fact]
    public async Task Serve_ReplacesItselfWithTieredCompilationOn_KeepingItsProcessAndCommandLine()
    {
        // dbuild runs without tiered compilation (short builds); the server turns it on for itself (ServerTiering).
        using var work = new TempDirectory();
        int port = RegistryServer.FreePort();
        var environment = new Dictionary<string, string> { ["REGISTRY_HTTP_ADDR"] = $"127.0.0.1:{port}" };
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(["--root", work.Path, "registry", "serve"], environment, port,
            work.Combine("registry"), Ct);
        string[] variables = (await File.ReadAllTextAsync($"/proc/{registry.ProcessId}/environ", Ct)).Split('\0');
        Assert.Contains("DOTNET_TieredCompilation=1", variables);
        Assert.Contains("DOTNET_TieredPGO=1", variables);
        Assert.Contains("DOTNET_GCgen0size=0x2000000", variables);
        Assert.Contains($"REGISTRY_HTTP_ADDR=127.0.0.1:{port}", variables);
        string[] argv = (await File.ReadAllTextAsync($"/proc/{registry.ProcessId}/cmdline", Ct)).TrimEnd('\0').Split('\0');
        Assert.Equal(["--root", work.Path, "registry", "serve"], argv[^4..]);
        Assert.Equal(0, await registry.StopAsync(Ct));
    }

    [Fact]
    public async Task Serve_UsersOwnRuntimeSettings_WinOverTheServerDefaults()
    {
        using var work = new TempDirectory();
        int port = RegistryServer.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["REGISTRY_HTTP_ADDR"] = $"127.0.0.1:{port}",
            ["DOTNET_TieredPGO"] = "0",
            ["DOTNET_GCgen0size"] = "0x1000000",
        };
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(["--root", work.Path, "registry", "serve"], environment, port,
            work.Combine("registry"), Ct);
        string[] variables = (await File.ReadAllTextAsync($"/proc/{registry.ProcessId}/environ", Ct)).Split('\0');
        Assert.Contains("DOTNET_TieredCompilation=1", variables);
        Assert.Equal(["DOTNET_TieredPGO=0"], variables.Where(v => v.StartsWith("DOTNET_TieredPGO=", StringComparison.Ordinal)));
        Assert.Equal(["DOTNET_GCgen0size=0x1000000"], variables.Where(v => v.StartsWith("DOTNET_GCgen0size=", StringComparison.Ordinal)));
        Assert.Equal(0, await registry.StopAsync(Ct));
    }

    [Fact]
    public async Task Serve_InvalidConfig_ExitsWithUsageErrorNamingTheKey()
    {
        using var work = new TempDirectory();
        string config = work.Combine("bad.yml");
        await File.WriteAllTextAsync(config, "version: 0.1\nstorage:\n  maintenance:\n    uploadpurging:\n      age: whenever\n", Ct);
        ProcessResult result = await ProcessRunner.RunAsync("dotnet", [RegistryServer.DbuildDll, "registry", "serve", "--config", config], Ct, timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("storage.maintenance.uploadpurging.age", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_UnknownKey_WarnsAndServes()
    {
        using var work = new TempDirectory();
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct,
            extra: "notifications:\n  events:\n    includereferences: true\n");
        Assert.Contains("unknown key 'notifications.events.includereferences'", registry.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_DuringAnUpload_FinishesTheRequestThenExits()
    {
        using var work = new TempDirectory();
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct);
        using var client = new HttpClient { BaseAddress = new Uri(registry.BaseUrl), Timeout = TimeSpan.FromMinutes(2) };
        using HttpResponseMessage start = await client.PostAsync("/v2/slow/blobs/uploads/", null, Ct);
        var body = new TricklingStream(chunks: 8, chunkSize: 64 * 1024, delay: TimeSpan.FromMilliseconds(500));
        using var content = new StreamContent(body);
        Task<HttpResponseMessage> patch = client.PatchAsync(start.Headers.Location, content, Ct);
        await body.Started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Task<int> stop = registry.StopAsync(Ct); // SIGTERM while the body is still arriving (~4 s more)
        using HttpResponseMessage response = await patch;
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"0-{8 * 64 * 1024 - 1}", response.Headers.GetValues("Range").Single());
        // 0 when the host drained first; 143 (SIGTERM) when System.CommandLine's 2 s termination timeout answered first and
        // the foreground keeper thread held the process until the drain finished.
        Assert.Contains(await stop, new[] { 0, 143 });
    }

    /// <summary>A request body that arrives slowly, in chunks with pauses.</summary>
    private sealed class TricklingStream(int chunks, int chunkSize, TimeSpan delay) : Stream
    {
        private int _sent;
        private int _offsetInChunk;
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => (long)chunks * chunkSize;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("HttpClient reads asynchronously.");
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_sent == chunks) { return 0; }
            if (_offsetInChunk == 0 && _sent > 0) { await Task.Delay(delay, cancellationToken); }
            int n = Math.Min(buffer.Length, chunkSize - _offsetInChunk);
            buffer.Span[..n].Fill((byte)_sent);
            _offsetInChunk += n;
            if (_offsetInChunk == chunkSize) { _offsetInChunk = 0; _sent++; }
            if (_sent == 1) { Started.TrySetResult(); }
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
