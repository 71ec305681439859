using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Store;

/// <summary>
/// Four dbuild processes build different images under one tag of one state root at once: the index's read-modify-write
/// runs under the store's lock, so the tag ends on one image and the other three stay as dangling images, none lost.
/// </summary>
public sealed class ConcurrentTagMovesTests : IDisposable
{
    private readonly TempDirectory _dir = new("dbuild-tagmoves-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task FourBuildsOfOneTag_AtOnce_OneTaggedThreeDangling()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string root = _dir.Combine("state");
        var contexts = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            string context = _dir.Combine($"context-{i}");
            Directory.CreateDirectory(context);
            await File.WriteAllTextAsync(Path.Combine(context, "file.txt"), $"image {i}\n", ct);
            await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "FROM scratch\nCOPY file.txt /file.txt\n", ct);
            contexts.Add(context);
        }

        ProcessResult[] builds = await Task.WhenAll(contexts.Select(c =>
            DbuildCli.RunAsync(["--root", root, "build", "--progress", "quiet", "-t", "localhost/moving:1", c], ct, timeout: TimeSpan.FromMinutes(3))));

        Assert.All(builds, b => b.EnsureSuccess());
        var ids = builds.Select(b => b.StandardOutput.Trim()[7..19]).ToHashSet();
        Assert.Equal(4, ids.Count);
        string[] rows = (await DbuildCli.RunAsync(["--root", root, "images"], ct)).EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..];
        Assert.Single(rows, r => r.StartsWith("localhost/moving ", StringComparison.Ordinal));
        Assert.Equal(3, rows.Count(r => r.StartsWith("<none> ", StringComparison.Ordinal)));
        Assert.Equal(ids, rows.Select(r => r.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]).ToHashSet());
        Assert.Contains("; 1 names and 3 dangling images checked, 0 with missing blobs", (await DbuildCli.RunAsync(["--root", root, "verify"], ct)).EnsureSuccess().StandardOutput, StringComparison.Ordinal);
    }
}
