using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Registry.Hosting;
using Dbuild.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dbuild.Registry.Tests;

public sealed class OperationsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("POST", "/v2/app/blobs/uploads/")]
    [InlineData("PUT", "/v2/app/manifests/v1")]
    [InlineData("PATCH", "/v2/app/blobs/uploads/0e6a1b3c-5d2f-4a7b-9c8d-1e2f3a4b5c6d")]
    [InlineData("DELETE", "/v2/app/manifests/v1")]
    [InlineData("DELETE", "/v2/app/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public async Task ReadOnly_Writes_Return405Unsupported(string method, string path)
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(o => o.ReadOnly = true);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent([1]) };
        using HttpResponseMessage response = await registry.Client.SendAsync(request, Ct);
        await ErrorBody.AssertAsync(response, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
    }

    [Fact]
    public async Task ReadOnly_Reads_StillWork()
    {
        await using RegistryFixture writable = await RegistryFixture.StartAsync();
        Digest digest = await writable.PushBlobAsync("app", [1, 2, 3]);
        await using RegistryFixture readOnly = await RegistryFixture.StartAsync(o => { o.StorageRoot = writable.StorageRoot; o.ReadOnly = true; });
        Assert.Equal([1, 2, 3], await readOnly.Client.GetByteArrayAsync($"/v2/app/blobs/{digest}", Ct));
    }

    [Fact]
    public async Task Push_WritesRegistry2Layout()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        string json = await registry.PushImageBlobsAsync("lib/app");
        using HttpResponseMessage put = await registry.PutManifestAsync("lib/app", "v1", json);
        Digest manifest = Digest.Parse(put.Headers.GetValues("Docker-Content-Digest").Single());
        string repo = Path.Combine(registry.V2, "repositories", "lib", "app");
        string hex = manifest.Encoded;
        Assert.Equal(json, await File.ReadAllTextAsync(Path.Combine(registry.V2, "blobs", "sha256", hex[..2], hex, "data"), Ct));
        Assert.Equal(manifest.ToString(), await File.ReadAllTextAsync(Path.Combine(repo, "_manifests", "revisions", "sha256", hex, "link"), Ct));
        Assert.Equal(manifest.ToString(), await File.ReadAllTextAsync(Path.Combine(repo, "_manifests", "tags", "v1", "current", "link"), Ct));
        Assert.Equal(manifest.ToString(), await File.ReadAllTextAsync(Path.Combine(repo, "_manifests", "tags", "v1", "index", "sha256", hex, "link"), Ct));
        string[] layerLinks = Directory.GetFiles(Path.Combine(repo, "_layers", "sha256"), "link", SearchOption.AllDirectories);
        Assert.Equal(2, layerLinks.Length); // config and layer
        foreach (string link in layerLinks)
        {
            string linked = await File.ReadAllTextAsync(link, Ct);
            Assert.Equal($"sha256:{Path.GetFileName(Path.GetDirectoryName(link))}", linked);
        }
    }

    [Fact]
    public async Task Upload_InProgress_LivesInStorageWithStartedAt()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        using HttpResponseMessage start = await registry.Client.PostAsync("/v2/app/blobs/uploads/", null, Ct);
        string id = start.Headers.GetValues("Docker-Upload-UUID").Single();
        string upload = Path.Combine(registry.V2, "repositories", "app", "_uploads", id);
        using JsonDocument state = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(upload, "state"), Ct));
        Assert.Equal(0, state.RootElement.GetProperty("offset").GetInt64());
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), state.RootElement.GetProperty("startedat").GetDateTimeOffset());
        Assert.Equal(112, state.RootElement.GetProperty("sha256").GetBytesFromBase64().Length);
    }

    [Fact]
    public async Task Purge_RemovesAnOldUploadRegistry2Started()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(o => o.UploadPurgingAge = TimeSpan.FromHours(1));
        string upload = Path.Combine(registry.V2, "repositories", "app", "_uploads", Guid.NewGuid().ToString("D"));
        Directory.CreateDirectory(upload);
        await File.WriteAllTextAsync(Path.Combine(upload, "startedat"), "2025-12-31T20:00:00Z", Ct);
        await File.WriteAllTextAsync(Path.Combine(upload, "data"), "partial", Ct);
        Assert.Equal(1, await registry.Services.GetRequiredService<UploadPurger>().PurgeOnceAsync(Ct));
        Assert.False(Directory.Exists(upload));
    }

    [Fact]
    public async Task Purge_RemovesOnlyUploadsOlderThanTheAge()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(o => o.UploadPurgingAge = TimeSpan.FromHours(1));
        using HttpResponseMessage old = await registry.Client.PostAsync("/v2/app/blobs/uploads/", null, Ct);
        registry.Time.Advance(TimeSpan.FromMinutes(90));
        using HttpResponseMessage recent = await registry.Client.PostAsync("/v2/app/blobs/uploads/", null, Ct);
        int purged = await registry.Services.GetRequiredService<UploadPurger>().PurgeOnceAsync(Ct);
        Assert.Equal(1, purged);
        using HttpResponseMessage oldStatus = await registry.Client.GetAsync(old.Headers.Location, Ct);
        await ErrorBody.AssertAsync(oldStatus, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        using HttpResponseMessage recentStatus = await registry.Client.GetAsync(recent.Headers.Location, Ct);
        Assert.Equal(HttpStatusCode.NoContent, recentStatus.StatusCode);
    }

    [Fact]
    public async Task Purge_DryRun_KeepsEverything()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync(o => { o.UploadPurgingAge = TimeSpan.FromHours(1); o.UploadPurgingDryRun = true; });
        using HttpResponseMessage old = await registry.Client.PostAsync("/v2/app/blobs/uploads/", null, Ct);
        registry.Time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, await registry.Services.GetRequiredService<UploadPurger>().PurgeOnceAsync(Ct));
        using HttpResponseMessage status = await registry.Client.GetAsync(old.Headers.Location, Ct);
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
    }

    [Fact]
    public async Task AccessLog_OneLinePerRequest_WithoutCredentials()
    {
        string htpasswd = Path.Combine(Path.GetTempPath(), $"htpasswd-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(htpasswd, $"alice:{BCrypt.Net.BCrypt.HashPassword("topsecret", 4)}\n", Ct);
        try
        {
            await using RegistryFixture registry = await RegistryFixture.StartAsync(o => o.HtpasswdPath = htpasswd);
            string credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:topsecret"));
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/app/tags/list");
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credentials);
            using HttpResponseMessage response = await registry.Client.SendAsync(request, Ct);
            var lines = registry.Logs.GetSnapshot().Where(r => r.Category == "Dbuild.Registry.AccessLog").ToList();
            var line = Assert.Single(lines);
            Assert.Contains("GET /v2/app/tags/list 404", line.Message, StringComparison.Ordinal);
            Assert.Contains("user=alice", line.Message, StringComparison.Ordinal);
            Assert.Matches(@"in=\d+ out=\d+ \d+ms", line.Message);
            Assert.DoesNotContain(credentials, line.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("topsecret", line.Message, StringComparison.Ordinal);
        }
        finally { File.Delete(htpasswd); }
    }

    [Fact]
    public async Task LargeUpload_64MiB_StreamsThroughAndVerifies()
    {
        await using RegistryFixture registry = await RegistryFixture.StartAsync();
        const int size = 64 * 1024 * 1024;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] block = RandomNumberGenerator.GetBytes(1024 * 1024);
        for (int i = 0; i < size / block.Length; i++) { hash.AppendData(block); }
        Digest digest = Digest.FromSha256(hash.GetHashAndReset());
        using HttpResponseMessage start = await registry.Client.PostAsync("/v2/big/blobs/uploads/", null, Ct);
        using var content = new StreamContent(new RepeatingStream(block, size));
        using HttpResponseMessage patch = await registry.Client.PatchAsync(start.Headers.Location, content, Ct);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        using HttpResponseMessage put = await registry.Client.PutAsync($"{start.Headers.Location}?digest={digest}", null, Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        using HttpResponseMessage head = await registry.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/big/blobs/{digest}"), Ct);
        Assert.Equal(size, head.Content.Headers.ContentLength);
    }

}
