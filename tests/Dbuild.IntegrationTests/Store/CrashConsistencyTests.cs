using System.Diagnostics;
using Dbuild.IntegrationTests.Build;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Store;

/// <summary>
/// <c>kill -9</c> of dbuild at random points of builds (multi-stage: COPY, RUN with a locked cache mount, COPY --from)
/// and of pulls (a multi-layer image from a registry:2 on 127.0.0.1): after each kill, a good build (or pull) on the same
/// state root succeeds, <c>dbuild verify</c> reports it clean, and no mount or abandoned temp file of the killed process
/// is left. The RNG is seeded; a failure names the seed (<c>DBUILD_CRASH_SEED=N</c> replays it).
/// </summary>
public sealed class CrashConsistencyTests : IDisposable
{
    private const int Kills = 20;
    private readonly TempDirectory _dir = new("dbuild-crash-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task KillNine_DuringBuildsAndPulls_NextRunSucceedsAndVerifyIsClean()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Prerequisites.RequireRoot("RUN steps on overlay snapshots");
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        int seed = int.TryParse(Environment.GetEnvironmentVariable("DBUILD_CRASH_SEED"), out int given) ? given : Random.Shared.Next();
        TestContext.Current.TestOutputHelper?.WriteLine($"DBUILD_CRASH_SEED={seed}");
        var random = new Random(seed);
        string buildRoot = _dir.Combine("build-root");
        string pullRoot = _dir.Combine("pull-root");
        string context = await WriteBuildContextAsync(env, ct);
        string image = await PushPullImageAsync(env, ct);
        try
        {
            // A kill comes at a random point of the command's last good run (the first build also pulls the base image).
            TimeSpan buildTime = await TimeAsync(() => GoodBuildAsync(buildRoot, context, "warm", ct));
            TimeSpan pullTime = await TimeAsync(() => GoodPullAsync(pullRoot, image, ct));
            for (int kill = 0; kill < Kills; kill++)
            {
                bool build = kill % 2 == 0;
                TimeSpan delay = (build ? buildTime : pullTime) * random.NextDouble();
                string outcome;
                if (build)
                {
                    outcome = await KillAfterAsync(delay, ["--root", buildRoot, "build", "--progress", "plain", "--build-arg", $"N=killed{kill}", "-t", "localhost/crash:latest", context], ct);
                    buildTime = await TimeAsync(() => GoodBuildAsync(buildRoot, context, $"good{kill}", ct));
                    await AssertCleanAsync(buildRoot, ct);
                }
                else
                {
                    (await DbuildAsync(["--root", pullRoot, "image", "prune", "-a", "-f"], ct)).EnsureSuccess(); // so the pull writes its blobs again
                    outcome = await KillAfterAsync(delay, ["--root", pullRoot, "pull", image], ct);
                    pullTime = await TimeAsync(() => GoodPullAsync(pullRoot, image, ct));
                    await AssertCleanAsync(pullRoot, ct);
                }
                TestContext.Current.TestOutputHelper?.WriteLine($"{(build ? "build" : "pull")} {kill}: {outcome} after {delay.TotalMilliseconds:F0} ms; recovered");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Assert.Fail($"With DBUILD_CRASH_SEED={seed}: {ex}");
        }
    }

    private async Task<string> WriteBuildContextAsync(BuildEnvironment env, CancellationToken ct)
    {
        string context = _dir.Combine("context");
        Directory.CreateDirectory(context);
        await File.WriteAllBytesAsync(Path.Combine(context, "big.bin"), RandomBytes(1, 512 << 10), ct);
        await File.WriteAllTextAsync(Path.Combine(context, "small.txt"), "small\n", ct);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), $"""
            FROM {env.BaseImage} AS gen
            ARG N
            COPY big.bin /big.bin
            RUN --mount=type=cache,target=/c,id=crash,sharing=locked head -c 500000 /dev/urandom > /gen.bin && echo "$N" >> /c/runs
            FROM {env.BaseImage}
            ARG N
            COPY --from=gen /gen.bin /big.bin /from-gen/
            COPY small.txt /small.txt
            RUN echo "$N" > /n.txt && head -c 200000 /dev/urandom > /more.bin
            """, ct);
        return context;
    }

    /// <summary>A four-layer image (busybox and three random ones) in the registry, under a name of this test's own.</summary>
    private async Task<string> PushPullImageAsync(BuildEnvironment env, CancellationToken ct)
    {
        string context = _dir.Combine("pull-context");
        Directory.CreateDirectory(context);
        for (int i = 1; i <= 3; i++) { await File.WriteAllBytesAsync(Path.Combine(context, $"l{i}.bin"), RandomBytes(i + 10, 768 << 10), ct); }
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), $"FROM {env.BaseImage}\nCOPY l1.bin /\nCOPY l2.bin /\nCOPY l3.bin /\n", ct);
        string image = $"{env.RegistryHost}/crash-{Guid.NewGuid():N}:1";
        (await DbuildAsync(["--root", _dir.Combine("push-root"), "build", "--progress", "plain", "--push", "-t", image, context], ct)).EnsureSuccess();
        return image;
    }

    private static async Task GoodBuildAsync(string root, string context, string arg, CancellationToken ct) =>
        (await DbuildAsync(["--root", root, "build", "--progress", "plain", "--build-arg", $"N={arg}", "-t", "localhost/crash:latest", context], ct)).EnsureSuccess();

    private static async Task GoodPullAsync(string root, string image, CancellationToken ct) =>
        (await DbuildAsync(["--root", root, "pull", image], ct)).EnsureSuccess();

    /// <summary>Starts dbuild and sends it SIGKILL after <paramref name="delay"/> (only dbuild: a RUN step's runtime and container live on).</summary>
    private static async Task<string> KillAfterAsync(TimeSpan delay, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])[DbuildCli.DllPath, .. arguments]) { start.ArgumentList.Add(argument); }
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dbuild.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try { await process.WaitForExitAsync(ct).WaitAsync(delay, ct); }
        catch (TimeoutException) { }
        bool killed = !process.HasExited;
        if (killed) { process.Kill(entireProcessTree: false); }
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(bound.Token);
        return killed ? "killed" : $"finished (exit {process.ExitCode}) before the kill";
    }

    /// <summary><c>dbuild verify</c> exits 0 naming no problem; nothing is mounted under the root; no temp file of a dead process is left in the store.</summary>
    private static async Task AssertCleanAsync(string root, CancellationToken ct)
    {
        ProcessResult verify = await DbuildAsync(["--root", root, "verify"], ct);
        Assert.True(verify.ExitCode == 0, $"verify: {verify.StandardOutput}{verify.StandardError}");
        Assert.Matches(@"^\d+ blobs checked, 0 corrupt; \d+ names( and \d+ dangling images)? checked, 0 with missing blobs$", verify.StandardOutput.Trim());
        string prefix = " " + Path.GetFullPath(root) + "/";
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(prefix, StringComparison.Ordinal));
        string ingest = Path.Combine(root, "content", "ingest");
        Assert.Empty(Directory.Exists(ingest) ? Directory.GetFiles(ingest) : []);
        Assert.Empty(Directory.GetFiles(Path.Combine(root, "content"), "*.tmp"));
        string work = Path.Combine(root, "runtime", "work");
        Assert.Empty(Directory.Exists(work) ? Directory.GetDirectories(work, "dbuild-*") : []);
    }

    private static Task<ProcessResult> DbuildAsync(IEnumerable<string> arguments, CancellationToken ct) =>
        DbuildCli.RunAsync(arguments, ct, timeout: TimeSpan.FromMinutes(2));

    private static async Task<TimeSpan> TimeAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action();
        return clock.Elapsed;
    }

    private static byte[] RandomBytes(int seed, int length)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
