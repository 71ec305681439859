using Dbuild.Oci;
using Dbuild.Runtime;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>The context's hash cache trusts (inode, size, mtime, ctime): a rewrite that restores size and mtime is still seen.</summary>
public sealed class ContextHashCacheTests
{
    private static async Task<BuildResult> BuildAsync(TempDirectory temp, CancellationToken ct)
    {
        var builder = new ImageBuilder(new BuilderOptions { StateRoot = temp.Combine("root"), FileSystem = LinuxLayerFileSystem.Instance });
        return await builder.BuildAsync(new BuildRequest
        {
            ContextDirectory = temp.Combine("ctx"),
            DockerfileText = "FROM scratch\nCOPY app/ /app/\n",
            Platform = Platform.LinuxAmd64,
        }, cancellationToken: ct);
    }

    [Fact]
    public async Task SameSizeRewrite_WithMtimeRestored_IsAMiss()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-hashcache-");
        string file = temp.Combine("ctx", "app", "data.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, "version-1", ct);
        DateTime mtime = File.GetLastWriteTimeUtc(file);
        await BuildAsync(temp, ct);

        await File.WriteAllTextAsync(file, "version-2", ct); // same size, same inode
        File.SetLastWriteTimeUtc(file, mtime);               // as rsync -t or a restore would leave it
        BuildResult result = await BuildAsync(temp, ct);

        Assert.False(result.Steps[0].Cached);
        Assert.Equal("app/data.txt changed", result.Steps[0].MissReason);
    }

    [Fact]
    public async Task HardLinkingTwoSameContentFiles_IsAMiss()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-hashcache-");
        string a = temp.Combine("ctx", "app", "a.txt");
        string b = temp.Combine("ctx", "app", "b.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(a)!);
        await File.WriteAllTextAsync(a, "same", ct);
        await File.WriteAllTextAsync(b, "same", ct);
        await BuildAsync(temp, ct);

        File.Delete(b);
        (await ProcessRunner.RunAsync("ln", [a, b], ct)).EnsureSuccess(); // same bytes, now one inode: the layer holds a hard link
        BuildResult result = await BuildAsync(temp, ct);

        Assert.False(result.Steps[0].Cached);
    }

    [Fact]
    public async Task Touch_Only_StaysCached()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-hashcache-");
        string file = temp.Combine("ctx", "app", "data.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, "version-1", ct);
        await BuildAsync(temp, ct);

        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(5));
        BuildResult result = await BuildAsync(temp, ct);

        Assert.All(result.Steps, s => Assert.True(s.Cached, s.Name));
    }
}
