using System.Globalization;
using System.Text.Json;
using Dbuild.Solver.Cache;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// A state root for build cache tests: builds two small images (each a RUN with a cache mount and a COPY), ages what a
/// build left behind (sets its last-use times back, so no test waits), scans the cache, and measures with <c>du</c>.
/// </summary>
internal sealed class CacheRoot(BuildEnvironment env, TempDirectory temp)
{
    public string Root => temp.Combine("root");

    /// <summary>Writes context <paramref name="name"/>: a RUN that fills a cache mount of its own and writes a file, and a COPY.</summary>
    public async Task<string> ContextAsync(string name, int bytes, CancellationToken ct)
    {
        string context = temp.Combine("ctx-" + name);
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), $$"""
            ARG BASE
            FROM ${BASE}
            RUN --mount=type=cache,target=/cache,id={{name}}-cache echo {{name}} > /cache/{{name}} && head -c {{bytes}} /dev/urandom > /cache/{{name}}.bin && head -c {{bytes}} /dev/urandom > /{{name}}.bin
            COPY . /src/
            """, ct);
        await File.WriteAllTextAsync(Path.Combine(context, name + ".txt"), new string(name[0], bytes / 2), ct);
        await File.WriteAllTextAsync(Path.Combine(context, "same.txt"), new string('s', 5000), ct);
        return context;
    }

    /// <summary>Builds and tags; returns whether each step was cached, in Dockerfile order.</summary>
    public async Task<bool[]> BuildAsync(string context, string tag, CancellationToken ct)
    {
        string meta = temp.Combine($"meta-{Guid.NewGuid():N}.json");
        (await BuildEnvironment.DbuildAsync(["build", "--root", Root, "--progress", "plain", "--build-arg", "BASE=" + env.BaseImage,
            "--metadata-file", meta, "-t", tag, context], ct)).EnsureSuccess();
        using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(meta, ct));
        return [.. json.RootElement.GetProperty("dbuild.steps").EnumerateArray().Select(s => s.GetProperty("cached").GetBoolean())];
    }

    public Task<ProcessResult> DbuildAsync(IEnumerable<string> arguments, CancellationToken ct, string? standardInput = null) =>
        BuildEnvironment.DbuildAsync(["--root", Root, .. arguments], ct, standardInput: standardInput);

    public Task<CacheUsageReport> ScanAsync(CancellationToken ct) => CacheUsage.ScanAsync(Root, exact: true, ct);

    /// <summary>
    /// Sets the last use of everything in the root <paramref name="age"/> back: blob and record files, and the snapshot
    /// and cache mount directories themselves (never the files inside a snapshot, which images are made of).
    /// </summary>
    public void Age(TimeSpan age)
    {
        DateTime then = DateTime.UtcNow - age;
        foreach (string blob in Directory.EnumerateFiles(Path.Combine(Root, "content", "blobs", "sha256"))) { File.SetLastWriteTimeUtc(blob, then); }
        foreach (string record in Directory.EnumerateFiles(Path.Combine(Root, "buildcache"), "*", SearchOption.AllDirectories)) { File.SetLastWriteTimeUtc(record, then); }
        foreach (string dir in new[] { "snapshots", "cache" }.Select(d => Path.Combine(Root, "runtime", d)).Where(Directory.Exists).SelectMany(Directory.EnumerateDirectories))
        {
            Directory.SetLastWriteTimeUtc(dir, then);
        }
    }

    /// <summary>What <c>du -sbc PATHS</c> reports as the total (0 for no paths).</summary>
    public static async Task<long> DuAsync(IReadOnlyList<string> paths, CancellationToken ct)
    {
        if (paths.Count == 0) { return 0; }
        ProcessResult du = (await ProcessRunner.RunAsync("du", ["-sbc", .. paths], ct)).EnsureSuccess();
        string total = du.StandardOutput.Trim().Split('\n')[^1];
        return long.Parse(total.Split('\t')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>go-units HumanSize, as docker and buildx print sizes.</summary>
    public static string Human(long bytes)
    {
        double size = bytes;
        string[] units = ["B", "kB", "MB", "GB", "TB"];
        int unit = 0;
        for (; size >= 1000 && unit < units.Length - 1; unit++) { size /= 1000; }
        return size.ToString("G4", CultureInfo.InvariantCulture) + units[unit];
    }
}
