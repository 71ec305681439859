using System.IO.Compression;
using Dbuild.Oci.Layers;
using static Dbuild.Testing.RealTars;

namespace Dbuild.Testing;

/// <summary>
/// The tars every layer reader must accept or refuse alike, each made by a real writer. An accepted case comes with an
/// oracle: a complete tar GNU tar extracts to what the case's tar holds (for a truncated tar, the archive it was cut from).
/// </summary>
public static class TarCases
{
    /// <summary>Cases that must be read, and read as GNU tar extracts their oracle.</summary>
    public static readonly string[] Accepted =
    [
        "gnu-tar v7", "gnu-tar oldgnu", "gnu-tar gnu", "gnu-tar ustar", "gnu-tar pax", "gnu-tar pax sparse", "gnu-tar gnu base-256",
        "gnu-tar -P absolute names", "busybox tar", "python PAX names", "python GNU names", "python USTAR names", "python hard links",
        "python PAX mtime fractions and global header", "python duplicates", "python devices", "python whiteouts",
        "no end blocks", "no padding after the last data", "partial padding", "a single zero block", "umoci insert layer",
    ];

    /// <summary>Cases every reader must refuse, with the exception type and a fragment of its message.</summary>
    public static readonly string[] Refused =
    [
        "ends inside data", "ends inside a header", "ends inside the second zero block", "zero block then a header", "corrupt checksum", "not a tar",
        "dot-dot climbs out", "inner dot-dot climbs out", "hard link climbs out", "hard link to a later entry", "whiteout of the parent",
        "whiteout of nothing", "contiguous file", "old-GNU sparse", "volume label",
    ];

    /// <summary>Writes the case's tar (and for accepted cases the oracle tar) under <paramref name="dir"/>.</summary>
    public static async Task<(string Tar, string? Oracle)> BuildAsync(string name, string dir, CancellationToken cancellationToken)
    {
        string src = Path.Combine(dir, "src");
        string tar = Path.Combine(dir, "case.tar");
        Directory.CreateDirectory(src);
        switch (name)
        {
            case "gnu-tar v7" or "gnu-tar ustar":
                await MakeSourceTreeAsync(src, longNames: false, fifo: name.EndsWith("ustar", StringComparison.Ordinal), cancellationToken);
                await GnuTarAsync(src, tar, cancellationToken, "--format=" + name[8..], "--owner=1234", "--group=5678");
                return (tar, tar);
            case "gnu-tar oldgnu" or "gnu-tar gnu" or "gnu-tar pax":
                await MakeSourceTreeAsync(src, longNames: true, fifo: true, cancellationToken);
                await GnuTarAsync(src, tar, cancellationToken, "--format=" + name[8..], "--owner=1234", "--group=5678");
                return (tar, tar);
            case "gnu-tar pax sparse":
                await File.WriteAllBytesAsync(Path.Combine(src, "before"), Bytes(700, 4), cancellationToken);
                await SparseFileAsync(Path.Combine(src, "sparse"), cancellationToken);
                await File.WriteAllBytesAsync(Path.Combine(src, "tail"), Bytes(1000, 5), cancellationToken);
                await GnuTarAsync(src, tar, cancellationToken, "--format=pax", "--sparse");
                return (tar, tar);
            case "gnu-tar gnu base-256":
                await File.WriteAllTextAsync(Path.Combine(src, "old"), "from 1950", cancellationToken);
                (await ProcessRunner.RunAsync("touch", ["-d", "1950-06-01 12:00:00 UTC", Path.Combine(src, "old")], cancellationToken)).EnsureSuccess();
                await GnuTarAsync(src, tar, cancellationToken, "--format=gnu", "--owner=3000000", "--group=4000000");
                return (tar, tar);
            case "gnu-tar -P absolute names":
                await MakeSourceTreeAsync(src, longNames: true, fifo: false, cancellationToken);
                (await ProcessRunner.RunAsync("tar", ["-P", "--format=gnu", "-cf", tar, src], cancellationToken)).EnsureSuccess();
                return (tar, tar);
            case "busybox tar":
                await MakeSourceTreeAsync(src, longNames: true, fifo: true, cancellationToken);
                await BusyboxAsync(src, tar, cancellationToken);
                return (tar, tar);
            case "python PAX names" or "python GNU names" or "python USTAR names":
                await PythonAsync(tar, name.Split(' ')[1], NameEntries(), cancellationToken);
                return (tar, tar);
            case "python hard links":
                await PythonAsync(tar, "PAX", [new("d/", '5', Mode: 0b111_101_101), new("d/x", Data: "target"), new("h1", '1', Link: "./d/x"),
                    new("/h2", '1', Link: "/d/x"), new("h3", '1', Link: "d//x"), new("s", '2', Link: "d/x"), new("h4", '1', Link: "s")], cancellationToken);
                return (tar, tar);
            case "python PAX mtime fractions and global header":
                await PythonAsync(tar, "PAX", [new("d/", '5', Mode: 0b111_101_101, Mtime: 1_600_000_000.25), new("d/f", Data: "x", Mtime: 1_600_000_000.1234567),
                    new("d/g", Data: "y", Pax: new Dictionary<string, string> { ["mtime"] = "1600000001.987654321987", ["atime"] = "1.5", ["comment"] = "kept out" }),
                    new("n", Data: "negative", Mtime: -100.5)], cancellationToken, new Dictionary<string, string> { ["comment"] = "global" });
                return (tar, tar);
            case "python duplicates":
                await PythonAsync(tar, "PAX", [new("a", Data: "first"), new("a", Data: "second, longer"), new("b", '2', Link: "a"), new("b", Data: "file now"),
                    new("c", Data: "file"), new("c/", '5', Mode: 0b111_000_000), new("d/", '5', Mode: 0b111_101_101), new("d/", '5', Mode: 0b111_111_111)], cancellationToken);
                return (tar, tar);
            case "python devices":
                await PythonAsync(tar, "PAX", [new("dev/", '5', Mode: 0b111_101_101), new("dev/null", '3', Mode: 0b110_110_110, DevMajor: 1, DevMinor: 3),
                    new("dev/loop9", '4', Mode: 0b110_110_000, DevMajor: 7, DevMinor: 9), new("dev/pipe", '6', Mode: 0b110_100_100)], cancellationToken);
                return (tar, tar);
            case "python whiteouts":
                await PythonAsync(tar, "PAX", [new("d/", '5', Mode: 0b111_101_101), new("d/.wh.gone"), new("d/.wh..wh..opq"), new(".wh.top")], cancellationToken);
                return (tar, tar);
            case "no end blocks" or "no padding after the last data" or "partial padding" or "a single zero block":
                string full = Path.Combine(dir, "full.tar");
                await MakeSourceTreeAsync(src, longNames: true, fifo: false, cancellationToken);
                await File.WriteAllTextAsync(Path.Combine(src, "zz-last"), "the last entry's 27 bytes\n", cancellationToken); // sorts last
                await GnuTarAsync(src, full, cancellationToken, "--format=pax", "--sort=name");
                long end = EndOfData(full);
                long cut = name switch
                {
                    "no end blocks" => end + (512 - end % 512) % 512,
                    "no padding after the last data" => end,
                    "partial padding" => end + 100,
                    _ => end + (512 - end % 512) % 512 + 512,
                };
                await HeadAsync(full, cut, tar, cancellationToken);
                return (tar, full);
            case "umoci insert layer":
                return await UmociInsertAsync(dir, src, cancellationToken);
        }
        return (await RefusedAsync(name, dir, src, tar, cancellationToken), null);
    }

    /// <summary>What a refused case must throw: the exception type and a fragment of the message.</summary>
    public static (Type Exception, string Message) Expected(string name) => name switch
    {
        "ends inside data" => (typeof(InvalidDataException), "ends inside the content of 'zz-last'"),
        "ends inside a header" or "ends inside the second zero block" => (typeof(InvalidDataException), "ends inside a header"),
        "zero block then a header" => (typeof(InvalidDataException), "single zero block"),
        "corrupt checksum" => (typeof(InvalidDataException), "checksum does not match"),
        "not a tar" => (typeof(InvalidDataException), "Not a tar archive"),
        "dot-dot climbs out" => (typeof(UnsafeLayerEntryException), "'../evil' refused: its '..' climbs out of the root"),
        "inner dot-dot climbs out" => (typeof(UnsafeLayerEntryException), "'a/../../evil' refused"),
        "hard link climbs out" => (typeof(UnsafeLayerEntryException), "hard link target '../../etc/passwd' climbs out"),
        "hard link to a later entry" => (typeof(UnsafeLayerEntryException), "'h' refused: its hard link target 'later' is not an earlier file"),
        "whiteout of the parent" or "whiteout of nothing" => (typeof(UnsafeLayerEntryException), "is not a valid whiteout"),
        "contiguous file" => (typeof(InvalidDataException), "'c' is a contiguous file"),
        "old-GNU sparse" => (typeof(InvalidDataException), "old-GNU sparse file"),
        "volume label" => (typeof(InvalidDataException), "tar type 'V'"),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a refused case"),
    };

    private static async Task<string> RefusedAsync(string name, string dir, string src, string tar, CancellationToken cancellationToken)
    {
        string full = Path.Combine(dir, "full.tar");
        switch (name)
        {
            case "ends inside data" or "ends inside a header" or "ends inside the second zero block" or "zero block then a header" or "corrupt checksum":
                await File.WriteAllTextAsync(Path.Combine(src, "a"), "first", cancellationToken);
                await File.WriteAllTextAsync(Path.Combine(src, "zz-last"), "the last entry's 27 bytes\n", cancellationToken);
                (await ProcessRunner.RunAsync("tar", ["--format=gnu", "-cf", full, "-C", src, "a", "zz-last"], cancellationToken)).EnsureSuccess();
                long end = EndOfData(full);
                long padded = end + (512 - end % 512) % 512;
                switch (name)
                {
                    case "ends inside data": await HeadAsync(full, end - 5, tar, cancellationToken); break;
                    case "ends inside a header": await HeadAsync(full, 512 + 512 + 100, tar, cancellationToken); break;
                    case "ends inside the second zero block": await HeadAsync(full, padded + 512 + 200, tar, cancellationToken); break;
                    case "zero block then a header":
                        await HeadAsync(full, padded + 512, tar, cancellationToken);
                        await File.AppendAllBytesAsync(tar, (await File.ReadAllBytesAsync(full, cancellationToken)).AsMemory(0, 1024), cancellationToken);
                        break;
                    default:
                        byte[] bytes = await File.ReadAllBytesAsync(full, cancellationToken);
                        bytes[1024 + 100] ^= 0x01; // the second entry's mode field
                        await File.WriteAllBytesAsync(tar, bytes, cancellationToken);
                        break;
                }
                return tar;
            case "not a tar":
                await File.WriteAllBytesAsync(tar, Bytes(2048, 6), cancellationToken);
                return tar;
            case "old-GNU sparse":
                await SparseFileAsync(Path.Combine(src, "sparse"), cancellationToken);
                await GnuTarAsync(src, tar, cancellationToken, "--format=gnu", "--sparse");
                return tar;
        }
        PyEntry[] entries = name switch
        {
            "dot-dot climbs out" => [new("ok", Data: "fine"), new("../evil", Data: "pwned")],
            "inner dot-dot climbs out" => [new("a/", '5'), new("a/../../evil", Data: "pwned")],
            "hard link climbs out" => [new("h", '1', Link: "../../etc/passwd")],
            "hard link to a later entry" => [new("h", '1', Link: "later"), new("later", Data: "x")],
            "whiteout of the parent" => [new("d/", '5'), new("d/.wh..."), new("x")],
            "whiteout of nothing" => [new(".wh.")],
            "contiguous file" => [new("c", '7', Data: "contiguous")],
            "volume label" => [new("label", 'V')],
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown case"),
        };
        await PythonAsync(tar, "PAX", entries, cancellationToken);
        return tar;
    }

    /// <summary>Names as python's tarfile stores them verbatim: <c>./</c>, <c>/</c>, <c>//</c>, <c>.</c>, inner <c>./</c> and <c>..</c>, long ones.</summary>
    private static PyEntry[] NameEntries() =>
    [
        // (GNU tar, the oracle, tells "./a" and "a" apart when it restores directory times: each directory keeps one spelling.)
        new(".", '5', Mode: 0b111_000_000), new("./", '5', Mode: 0b111_000_000), new("./a/", '5', Mode: 0b111_101_101), new("./a/f", Data: "dot-slash"),
        new("/abs/", '5', Mode: 0b111_101_000), new("/abs/g", Data: "absolute", Uid: 7, Gid: 8), new("//double//slash", Data: "double"),
        new("b/./inner", Data: "inner dot"), new("c/" + new string('l', 90) + "/" + new string('m', 90), Data: "long"), new("sym", '2', Link: "./a/f"),
    ];

    private static async Task SparseFileAsync(string path, CancellationToken cancellationToken)
    {
        await using (FileStream f = File.Create(path))
        {
            f.SetLength(3 * 1024 * 1024);
            f.Position = 1024 * 1024;
            await f.WriteAsync(Bytes(5000, 7), cancellationToken);
        }
    }

    /// <summary>
    /// A layer umoci 0.4's insert writes: gzip, and the tar inside stops right after the last entry's bytes (no padding,
    /// no end blocks). Its oracle is that tar with the padding and end blocks put back.
    /// </summary>
    private static async Task<(string, string)> UmociInsertAsync(string dir, string src, CancellationToken cancellationToken)
    {
        string umoci = Prerequisites.RequireTool("umoci", "umoci");
        string layout = Path.Combine(dir, "layout");
        (await ProcessRunner.RunAsync(umoci, ["init", "--layout", layout], cancellationToken)).EnsureSuccess();
        (await ProcessRunner.RunAsync(umoci, ["new", "--image", layout + ":t"], cancellationToken)).EnsureSuccess();
        await File.WriteAllTextAsync(Path.Combine(src, "inserted"), "inserted by umoci\n", cancellationToken);
        (await ProcessRunner.RunAsync(umoci, ["insert", "--image", layout + ":t", Path.Combine(src, "inserted"), "/opt/inserted"], cancellationToken)).EnsureSuccess();
        string layer = Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")).Single(f => File.ReadAllBytes(f) is [0x1f, 0x8b, ..]);
        string oracle = Path.Combine(dir, "oracle.tar");
        await using (FileStream output = File.Create(oracle))
        {
            await using (var gunzip = new GZipStream(File.OpenRead(layer), CompressionMode.Decompress)) { await gunzip.CopyToAsync(output, cancellationToken); }
            await output.WriteAsync(new byte[(512 - output.Length % 512) % 512 + 1024], cancellationToken);
        }
        return (layer, oracle);
    }
}
