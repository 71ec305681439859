using System.Text;
using System.Text.Json;

namespace Dbuild.Testing;

/// <summary>
/// Tars written by real tools (GNU tar, python3's tarfile, busybox tar, umoci), generated inside tests rather than
/// committed as binaries, plus GNU tar as the reference extractor.
/// </summary>
public static class RealTars
{
    /// <summary>
    /// One entry for <see cref="PythonAsync"/>: python's tarfile writes it as given (names are not cleaned). Name is
    /// stored as is (<c>./a</c>, <c>/abs</c>, <c>../evil</c>); Type is the typeflag (<c>0</c> file, <c>1</c> hard link,
    /// <c>2</c> symlink, <c>3</c>/<c>4</c> devices, <c>5</c> dir, <c>6</c> FIFO, …); Data is a file's content.
    /// </summary>
    public sealed record PyEntry(string Name, char Type = '0', string? Data = null, string? Link = null, int Mode = 0b110_100_100, int Uid = 0, int Gid = 0,
        double Mtime = 1_700_000_000, int DevMajor = 0, int DevMinor = 0, IReadOnlyDictionary<string, string>? Pax = null);

    /// <summary>A varied tree to archive: sizes around the 512-byte block, modes, links, a FIFO, long and non-ASCII names.</summary>
    public static async Task MakeSourceTreeAsync(string root, bool longNames, bool fifo, CancellationToken cancellationToken)
    {
        string dir = Path.Combine(root, "dir");
        Directory.CreateDirectory(Path.Combine(dir, "sub", "deeper"));
        await File.WriteAllBytesAsync(Path.Combine(dir, "empty"), [], cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir, "one"), "1", cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(dir, "block"), Bytes(512, 1), cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(dir, "block-plus"), Bytes(513, 2), cancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(dir, "sub", "deeper", "big"), Bytes(200 * 1024 + 7, 3), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir, "setuid"), "#!/bin/sh\n", cancellationToken);
        File.SetUnixFileMode(Path.Combine(dir, "setuid"), (UnixFileMode)0b100_111_101_101);
        File.SetUnixFileMode(Path.Combine(dir, "block-plus"), (UnixFileMode)0b110_000_000);
        File.CreateSymbolicLink(Path.Combine(dir, "link"), "one");
        File.CreateSymbolicLink(Path.Combine(dir, "abs"), "/etc/passwd");
        (await ProcessRunner.RunAsync("ln", [Path.Combine(dir, "one"), Path.Combine(dir, "hard")], cancellationToken)).EnsureSuccess();
        await File.WriteAllTextAsync(Path.Combine(dir, "ünïcødé.txt"), "unicode", cancellationToken);
        string nested = Path.Combine(dir, "sub", string.Join('/', Enumerable.Repeat("nested-directory-name", 6)));
        Directory.CreateDirectory(nested);
        await File.WriteAllTextAsync(Path.Combine(nested, "file"), "deep", cancellationToken);
        if (longNames)
        {
            await File.WriteAllTextAsync(Path.Combine(dir, new string('n', 140)), "long", cancellationToken);
            File.CreateSymbolicLink(Path.Combine(dir, "long-link"), new string('t', 150));
        }
        if (fifo) { (await ProcessRunner.RunAsync("mkfifo", [Path.Combine(root, "fifo")], cancellationToken)).EnsureSuccess(); }
        (await ProcessRunner.RunAsync("touch", ["-h", "-d", "2020-01-02 03:04:05.123456789", Path.Combine(dir, "one")], cancellationToken)).EnsureSuccess();
    }

    /// <summary>A GNU tar layer for whiteout tests: <c>a/{b,c}</c>, <c>d/inner</c>, <c>o/{old,sub/x}</c>, <c>p/q</c>, <c>keep</c>.</summary>
    public static async Task<string> WhiteoutBaseLayerAsync(string dir, CancellationToken cancellationToken)
    {
        string src = Path.Combine(dir, "base");
        foreach (string d in new[] { "a", "d", "o/sub", "p" }) { Directory.CreateDirectory(Path.Combine(src, d)); }
        foreach (string file in new[] { "a/b", "a/c", "d/inner", "o/old", "o/sub/x", "p/q", "keep" })
        {
            await File.WriteAllTextAsync(Path.Combine(src, file), file, cancellationToken);
        }
        string tar = Path.Combine(dir, "base.tar");
        await GnuTarAsync(src, tar, cancellationToken, "--format=pax");
        return tar;
    }

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Bytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>GNU tar <c>-cf tar -C source .</c> with extra options (e.g. <c>--format=v7</c>); a failure status is fine when the tar was written.</summary>
    public static async Task GnuTarAsync(string source, string tar, CancellationToken cancellationToken, params string[] options)
    {
        ProcessResult result = await ProcessRunner.RunAsync("tar", [.. options, "-cf", tar, "-C", source, "."], cancellationToken);
        if (result.ExitCode != 0 && !File.Exists(tar)) { result.EnsureSuccess(); }
    }

    /// <summary>Writes <paramref name="entries"/> with python3's tarfile in <paramref name="format"/> (<c>PAX</c>, <c>GNU</c>, <c>USTAR</c>).</summary>
    public static async Task PythonAsync(string tar, string format, IEnumerable<PyEntry> entries, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? globalPax = null)
    {
        string spec = tar + ".json";
        await File.WriteAllTextAsync(spec, JsonSerializer.Serialize(new { format, globalPax, entries }), cancellationToken);
        const string Script = """
            import json, sys, tarfile, io
            spec = json.load(open(sys.argv[1]))
            fmt = getattr(tarfile, spec["format"] + "_FORMAT")
            with tarfile.open(sys.argv[2], "w", format=fmt, pax_headers=spec.get("globalPax") or {}) as t:
                for e in spec["entries"]:
                    i = tarfile.TarInfo(e["Name"])
                    i.type = e["Type"].encode()
                    i.mode, i.uid, i.gid, i.mtime = e["Mode"], e["Uid"], e["Gid"], e["Mtime"]
                    i.devmajor, i.devminor = e["DevMajor"], e["DevMinor"]
                    i.linkname = e["Link"] or ""
                    if e["Pax"]: i.pax_headers = e["Pax"]
                    data = (e["Data"] or "").encode()
                    i.size = len(data) if i.type in (b"0", b"7") else 0
                    t.addfile(i, io.BytesIO(data) if i.size else None)
            """;
        (await ProcessRunner.RunAsync("python3", ["-c", Script, spec, tar], cancellationToken)).EnsureSuccess();
        File.Delete(spec);
    }

    /// <summary>busybox tar <c>-cf tar -C source .</c>.</summary>
    public static async Task BusyboxAsync(string source, string tar, CancellationToken cancellationToken)
    {
        string busybox = Prerequisites.RequireTool("busybox", "busybox-static");
        (await ProcessRunner.RunAsync(busybox, ["tar", "-cf", tar, "-C", source, "."], cancellationToken)).EnsureSuccess();
    }

    /// <summary>The first <paramref name="length"/> bytes of a file, cut with head(1).</summary>
    public static async Task HeadAsync(string source, long length, string destination, CancellationToken cancellationToken)
    {
        ProcessResult result = await ProcessRunner.RunAsync("sh", ["-c", "head -c \"$1\" \"$2\" > \"$3\"", "head", length.ToString(System.Globalization.CultureInfo.InvariantCulture), source, destination], cancellationToken);
        result.EnsureSuccess();
    }

    /// <summary>GNU tar's extraction (as root: numeric owners, modes, xattrs kept); the reference for what a tar holds.</summary>
    public static async Task GnuExtractAsync(string tar, string destination, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        (await ProcessRunner.RunAsync("tar", ["--numeric-owner", "--same-owner", "--same-permissions", "--xattrs", "--xattrs-include=*", "-xf", tar, "-C", destination],
            cancellationToken)).EnsureSuccess();
    }

    /// <summary>Size of the last entry's content and where it ends in a GNU/python tar: the offsets truncation tests cut at.</summary>
    public static long EndOfData(string tar)
    {
        byte[] bytes = File.ReadAllBytes(tar);
        long offset = 0;
        long end = 0;
        while (offset + 512 <= bytes.Length && bytes.AsSpan((int)offset, 512).ContainsAnyExcept((byte)0))
        {
            long size = Convert.ToInt64(Encoding.ASCII.GetString(bytes, (int)offset + 124, 11).Trim('\0', ' ') is { Length: > 0 } s ? s : "0", 8);
            char type = (char)bytes[offset + 156];
            if (type is '1' or '2' or '3' or '4' or '5' or '6') { size = 0; }
            end = offset + 512 + size;
            offset = end + (512 - size % 512) % 512;
        }
        return end;
    }
}
