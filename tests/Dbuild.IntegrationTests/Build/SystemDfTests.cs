using Dbuild.Solver.Cache;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary><c>dbuild system df</c>: its numbers are <c>du -sb</c>'s over the same files, hard-linked snapshot files counted once.</summary>
public sealed class SystemDfTests
{
    [Fact]
    public async Task SystemDf_Sizes_EqualDuOfTheSameFiles()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-df-");
        var root = new CacheRoot(env, temp);
        string context = await root.ContextAsync("a", 50_000, ct);
        await root.BuildAsync(context, "example/a:1", ct);
        await File.WriteAllTextAsync(Path.Combine(context, "a.txt"), "changed", ct);
        await root.BuildAsync(context, "example/a:2", ct); // the COPY's new snapshot hard-links same.txt from the first one

        CacheUsageReport report = await root.ScanAsync(ct);
        ProcessResult df = (await root.DbuildAsync(["system", "df"], ct)).EnsureSuccess();

        string[] snapshots = [.. Directory.EnumerateDirectories(Path.Combine(root.Root, "runtime", "snapshots")).Where(d => Path.GetFileName(d) != "empty")];
        string[] mounts = [.. Directory.EnumerateDirectories(Path.Combine(root.Root, "runtime", "cache"))];
        string[] blobsAndRecords = [.. Directory.EnumerateFiles(Path.Combine(root.Root, "content", "blobs", "sha256")), Path.Combine(root.Root, "buildcache")];
        long duSnapshots = await CacheRoot.DuAsync(snapshots, ct);
        long duMounts = await CacheRoot.DuAsync(mounts, ct);
        long duStore = await CacheRoot.DuAsync(blobsAndRecords, ct);
        ProcessResult linked = (await ProcessRunner.RunAsync("find", [Path.Combine(root.Root, "runtime", "snapshots"), "-type", "f", "-links", "+1", "-name", "same.txt"], ct)).EnsureSuccess();
        Assert.True(linked.StandardOutput.Trim().Split('\n').Length >= 2, "same.txt is hard-linked between the two COPY snapshots: " + linked.StandardOutput);

        Assert.Equal(duSnapshots, report.SizeOf(CacheEntryKind.Snapshot));
        Assert.Equal(duMounts, report.SizeOf(CacheEntryKind.CacheMount));
        Assert.Equal(duStore, report.ImagesSize + report.SizeOf(CacheEntryKind.Blob, CacheEntryKind.Records));
        string[] lines = df.StandardOutput.Split('\n');
        Assert.Matches(@"^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$", lines[0]);
        Assert.Matches($@"^Images\s+\d+\s+\d+\s+{CacheRoot.Human(report.ImagesSize)}\s", lines[1]);
        Assert.Matches($@"^Snapshots\s+\d+\s+\d+\s+{CacheRoot.Human(duSnapshots)}\s", lines[3]);
        Assert.Matches($@"^Cache Mounts\s+1\s+0\s+{CacheRoot.Human(duMounts)}\s+{CacheRoot.Human(duMounts)} \(100%\)$", lines[4]);
    }
}
