using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Oci;

/// <summary>Several dbuild processes writing the same blobs into one state root at once all succeed, and one verified copy remains.</summary>
public sealed class ConcurrentStoreProcessesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // SOURCE_DATE_EPOCH pins every timestamp, so the four builds must agree on the image ID too.
    private static Task<ProcessResult> DbuildAsync(params string[] args) =>
        DbuildCli.RunAsync(args, TestContext.Current.CancellationToken, new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000" },
            timeout: TimeSpan.FromMinutes(3));

    [Fact]
    public async Task FourProcesses_SameBlobsSameRoot_AllSucceedOneCopyEach()
    {
        string context = _dir.Combine("context");
        Directory.CreateDirectory(context);
        byte[] payload = new byte[8 * 1024 * 1024];
        new Random(3).NextBytes(payload); // incompressible, so the layer write takes a while and the writers overlap
        await File.WriteAllBytesAsync(Path.Combine(context, "payload.bin"), payload, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "FROM scratch\nCOPY payload.bin /payload.bin\n", TestContext.Current.CancellationToken);
        string root = _dir.Combine("state");

        ProcessResult[] results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            DbuildAsync("--root", root, "build", "--no-cache", "--progress", "quiet", "-t", $"localhost/concurrent:{i}", context)));

        Assert.All(results, r => r.EnsureSuccess());
        string imageId = results[0].StandardOutput.Trim();
        Assert.All(results, r => Assert.Equal(imageId, r.StandardOutput.Trim())); // same content, same image
        ProcessResult verify = (await DbuildAsync("--root", root, "verify")).EnsureSuccess();
        Assert.Matches(@"^\d+ blobs checked, 0 corrupt", verify.StandardOutput.Trim());
        string content = Path.Combine(root, "content");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(content, "ingest")));
        // One file per digest, each named by its own hash: no temporary or duplicate left in blobs/.
        Assert.All(Directory.EnumerateFiles(Path.Combine(content, "blobs", "sha256")), f => Assert.Matches("^[0-9a-f]{64}$", Path.GetFileName(f)));
    }
}
