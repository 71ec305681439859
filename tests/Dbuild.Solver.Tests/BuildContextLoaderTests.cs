using System.Formats.Tar;
using System.IO.Compression;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests;

/// <summary>
/// <see cref="BuildContextLoader"/> on '-': a tar read from a stream that cannot seek (as stdin) is unpacked with its
/// modes, mtimes, symlinks and hard links; anything that is no archive is the Dockerfile; local paths are used in place.
/// </summary>
public sealed class BuildContextLoaderTests
{
    private static readonly DateTimeOffset Mtime = new(2021, 3, 4, 5, 6, 7, TimeSpan.Zero);

    [Fact]
    public async Task StdinGzipTar_UnpackedWithModesLinksAndMtimes()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var tar = new MemoryStream();
        await using (var gzip = new GZipStream(tar, CompressionLevel.Fastest, leaveOpen: true))
        await using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "d/") { Mode = (UnixFileMode)0b111_000_000, ModificationTime = Mtime }, ct);
            await writer.WriteEntryAsync(File("d/a.txt", "hello\n", 0b110_000_000), ct);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.HardLink, "d/b.txt") { LinkName = "d/a.txt" }, ct);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "c") { LinkName = "d/a.txt" }, ct);
            await writer.WriteEntryAsync(File(new string('n', 150) + ".txt", "long\n", 0b111_101_101), ct);
        }

        using PreparedContext context = await BuildContextLoader.PrepareAsync("-", () => Stdin(tar.ToArray()), new HttpClient(), ct);

        Assert.True(context.IsRemote);
        Assert.Null(context.DockerfileText);
        string dir = context.Directory;
        Assert.Equal("hello\n", await System.IO.File.ReadAllTextAsync(Path.Combine(dir, "d", "b.txt"), ct));
        Assert.Equal((UnixFileMode)0b110_000_000, System.IO.File.GetUnixFileMode(Path.Combine(dir, "d", "a.txt")));
        Assert.Equal((UnixFileMode)0b111_000_000, System.IO.File.GetUnixFileMode(Path.Combine(dir, "d")));
        Assert.Equal(Mtime.UtcDateTime, System.IO.File.GetLastWriteTimeUtc(Path.Combine(dir, "d")));
        Assert.Equal(Mtime.UtcDateTime, System.IO.File.GetLastWriteTimeUtc(Path.Combine(dir, "d", "a.txt")));
        Assert.Equal("d/a.txt", new FileInfo(Path.Combine(dir, "c")).LinkTarget);
        Assert.Equal("long\n", await System.IO.File.ReadAllTextAsync(Path.Combine(dir, new string('n', 150) + ".txt"), ct));
    }

    [Fact]
    public async Task StdinText_IsTheDockerfile_ContextEmpty_AndDeletedOnDispose()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string dir;
        using (PreparedContext context = await BuildContextLoader.PrepareAsync("-", () => Stdin("FROM scratch\nLABEL a=b\n"u8.ToArray()), new HttpClient(), ct))
        {
            dir = context.Directory;
            Assert.Equal("FROM scratch\nLABEL a=b\n", context.DockerfileText);
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        }
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public async Task LocalDirectory_UsedInPlace_MissingOneIsNamed()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-ctxload-");

        using PreparedContext local = await BuildContextLoader.PrepareAsync(temp.Path, () => throw new InvalidOperationException("stdin read"), new HttpClient(), ct);
        var missing = await Assert.ThrowsAsync<BuildException>(() => BuildContextLoader.PrepareAsync(temp.Combine("nope"), () => Stream.Null, new HttpClient(), ct));

        Assert.False(local.IsRemote);
        Assert.Equal(temp.Path, local.Directory);
        Assert.Equal($"unable to prepare context: path \"{temp.Combine("nope")}\" not found", missing.Message);
        local.Dispose();
        Assert.True(Directory.Exists(temp.Path)); // a local context is never deleted
    }

    private static PaxTarEntry File(string name, string content, int mode) => new(TarEntryType.RegularFile, name)
    {
        Mode = (UnixFileMode)mode,
        ModificationTime = Mtime,
        DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
    };

    /// <summary>Stdin's shape: read forward only, no seeking (the shared RepeatingStream, serving the bytes once).</summary>
    private static RepeatingStream Stdin(byte[] data) => new(data, data.Length);
}
