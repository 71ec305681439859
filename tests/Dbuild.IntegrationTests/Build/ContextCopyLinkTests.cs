using System.Text.Json;
using Dbuild.Runtime;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// A context COPY run again because one source file changed hard-links the files that are the same (bytes, mode,
/// owner, mtime) from its last snapshot instead of writing them, and the image is byte for byte the one a fresh state
/// root builds: a file whose mode or mtime changed is written anew, never linked with the old metadata.
/// </summary>
public sealed class ContextCopyLinkTests
{
    private const string Dockerfile = """
        ARG BASE
        FROM ${BASE}
        COPY src/ /app/
        RUN stat -c '%a %s %n' /app/*.txt > /app.listing && cat /app/*.txt >> /app.listing
        """;

    [Fact]
    public async Task Rebuild_OneFileChanged_SameFilesLinked_ChangedModeAndMtimeWritten_ImageAsFromScratch()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-ctxlink-");
        string context = temp.Combine("ctx");
        Directory.CreateDirectory(Path.Combine(context, "src"));
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), Dockerfile, ct);
        foreach (string name in new[] { "same", "content", "mode", "mtime" })
        {
            await File.WriteAllTextAsync(Path.Combine(context, "src", name + ".txt"), name + "\n", ct);
            File.SetUnixFileMode(Path.Combine(context, "src", name + ".txt"), (UnixFileMode)0b110_100_100);
            File.SetLastWriteTimeUtc(Path.Combine(context, "src", name + ".txt"), new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        }
        string root = temp.Combine("root");
        await BuildAsync(env, root, context, temp.Combine("first.json"), ct);

        await File.WriteAllTextAsync(Path.Combine(context, "src", "content.txt"), "changed\n", ct);
        File.SetUnixFileMode(Path.Combine(context, "src", "mode.txt"), (UnixFileMode)0b111_101_101);
        File.SetLastWriteTimeUtc(Path.Combine(context, "src", "mtime.txt"), new DateTime(2021, 6, 1, 0, 0, 0, DateTimeKind.Utc));
        string again = await BuildAsync(env, root, context, temp.Combine("again.json"), ct);
        string fresh = await BuildAsync(env, temp.Combine("fresh-root"), context, temp.Combine("fresh.json"), ct);

        Assert.Equal(fresh, again); // linking changed nothing in the image
        // The two COPY snapshots: 'same.txt' is one inode in both; the others were written again.
        var copies = Directory.GetDirectories(Path.Combine(root, "runtime", "snapshots"))
            .Select(s => Path.Combine(s, "fs", "app")).Where(a => File.Exists(Path.Combine(a, "same.txt"))).ToList();
        Assert.Equal(2, copies.Count);
        ulong Inode(string dir, string name) => LinuxLayerFileSystem.Instance.GetStatus(Path.Combine(dir, name)).Inode;
        Assert.Equal(Inode(copies[0], "same.txt"), Inode(copies[1], "same.txt"));
        foreach (string changed in new[] { "content.txt", "mode.txt", "mtime.txt" }) { Assert.NotEqual(Inode(copies[0], changed), Inode(copies[1], changed)); }
        string newer = copies.Single(c => File.ReadAllText(Path.Combine(c, "content.txt")) == "changed\n");
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(newer, "mode.txt")));
        Assert.Equal(new DateTime(2021, 6, 1, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(newer, "mtime.txt")));
    }

    private static async Task<string> BuildAsync(BuildEnvironment env, string root, string context, string metadata, CancellationToken ct)
    {
        // Sources are older than SOURCE_DATE_EPOCH: their mtimes reach the image unclamped.
        var environment = new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000" };
        (await BuildEnvironment.DbuildAsync(["build", "--root", root, "--progress", "plain", "--build-arg", "BASE=" + env.BaseImage,
            "--metadata-file", metadata, context], ct, environment)).EnsureSuccess();
        using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(metadata, ct));
        return json.RootElement.GetProperty("containerimage.digest").GetString()!;
    }
}
