using System.Formats.Tar;
using System.Text.Json;
using Dbuild.IntegrationTests.Build;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Runtime;

/// <summary>
/// Rootless with no wrapper: the unprivileged users testdata/ci/setup.sh makes run <c>dbuild build</c> as they would
/// type it (runuser, no unshare). With /etc/subuid ranges dbuild enters its own user namespace (the user as 0, the
/// range as 1…); without, a build with RUN steps is refused with the line that says what to add, before anything runs.
/// </summary>
public sealed class RootlessBuildTests
{
    private const string User = "dbuildtest";
    private const string UserWithoutRanges = "dbuildnosub";

    private const string Dockerfile = """
        ARG BASE
        FROM ${BASE}
        COPY --chown=2000:3000 hello.txt /hello.txt
        RUN mkdir /data && echo one > /data/owned && chown -R 1000:1000 /data && id -u > /data/uid && cat /proc/self/uid_map > /data/map
        RUN chown 65534:65534 /hello.txt
        """;

    [Fact]
    public async Task Build_PlainUserWithRanges_EntersItsOwnUserNamespaceAndKeepsOwners()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string runuser = Require(User);
        (long uidStart, long gidStart) = (FirstRange("/etc/subuid", User), FirstRange("/etc/subgid", User));
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-rootless-");
        string home = await PrepareAsync(temp, User, Dockerfile, ct);

        ProcessResult first = await BuildAsync(runuser, User, home, [], env, temp, "first", ct);
        Assert.True(first.ExitCode == 0, $"rootless build failed (exit {first.ExitCode}):\n{first.StandardError}");
        Dictionary<string, (int Uid, int Gid, string Content)> files = await ReadOciImageAsync(temp.Combine("out", "first.tar"), temp.Combine("first"), ct);
        Assert.Equal((2000, 3000), Owner(files, "hello.txt", layerOf: "COPY"));
        Assert.Equal((1000, 1000), Owner(files, "data/owned"));
        Assert.Equal((1000, 1000), Owner(files, "data"));
        Assert.Equal("0\n", files["data/uid"].Content); // root inside
        Assert.Equal((65534, 65534), Owner(files, "hello.txt"));
        Assert.Equal((0, 0), Owner(files, "bin/sh")); // the base image's own files keep their owners
        // podman's layout: the user as 0, then the whole first range from 1 on.
        string[] map = files["data/map"].Content.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["0", await IdOfAsync(User, ct), "1", "1", uidStart.ToString(System.Globalization.CultureInfo.InvariantCulture), "65536"], map);

        // The state root is where README says for a user, owned by the user outside; mapped ids are the range's.
        string root = Path.Combine(home, ".local", "share", "dbuild");
        Assert.Equal(await IdOfAsync(User, ct) + ":" + await IdOfAsync(User, ct, "-g"), await StatAsync(root, ct));
        ProcessResult owned = (await ProcessRunner.RunAsync("find", [root, "-path", "*/data/owned", "-type", "f"], ct)).EnsureSuccess();
        string snapshotFile = owned.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).First();
        Assert.Equal($"{uidStart + 999}:{gidStart + 999}", await StatAsync(snapshotFile, ct));

        // Again, the Dockerfile on stdin (passed through): every step from the cache; then the same under the unshare
        // wrapper (already in a namespace: no second entry).
        ProcessResult second = await BuildAsync(runuser, User, home, [], env, temp, "second", ct, dockerfileOnStdin: Dockerfile);
        Assert.True(second.ExitCode == 0, $"second rootless build failed:\n{second.StandardError}");
        Assert.All(await StepsAsync(temp.Combine("out", "second.json"), ct), s => Assert.True(s.Cached, $"{s.Name} was not cached"));
        ProcessResult wrapped = await BuildAsync(runuser, User, home,
            [Prerequisites.RequireTool("unshare", "util-linux"), "--map-root-user", "--map-users=auto", "--map-groups=auto", "--mount", "--propagation", "private", "--"],
            env, temp, "wrapped", ct);
        Assert.True(wrapped.ExitCode == 0, $"build under the unshare wrapper failed:\n{wrapped.StandardError}");
        Assert.All(await StepsAsync(temp.Combine("out", "wrapped.json"), ct), s => Assert.True(s.Cached, $"{s.Name} was not cached under the wrapper"));
        // Outside any namespace, the user reads what the namespace wrote.
        ProcessResult verify = await RunAsUserAsync(runuser, User, home, [], ["verify"], ct);
        Assert.True(verify.ExitCode == 0, $"verify outside the namespace failed:\n{verify.StandardOutput}{verify.StandardError}");
        ProcessResult df = await RunAsUserAsync(runuser, User, home, [], ["system", "df"], ct);
        Assert.True(df.ExitCode == 0, $"system df failed:\n{df.StandardError}");
        Assert.Matches(@"(?m)^Snapshots\s+[1-9]", df.StandardOutput);
        // builder prune enters too: the snapshots hold files of mapped ids, which the user alone could not delete.
        ProcessResult prune = await RunAsUserAsync(runuser, User, home, [], ["builder", "prune", "--all", "--force"], ct);
        Assert.True(prune.ExitCode == 0, $"builder prune failed:\n{prune.StandardError}");
        Assert.Empty((await ProcessRunner.RunAsync("find", [root, "-path", "*/data/owned"], ct)).EnsureSuccess().StandardOutput);
    }

    [Fact]
    public async Task Build_PlainUserWithoutRanges_SaysWhatToAddBeforeAnythingRuns()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string runuser = Require(UserWithoutRanges);
        Prerequisites.Require(!File.ReadAllLines("/etc/subuid").Any(l => l.StartsWith(UserWithoutRanges + ":", StringComparison.Ordinal)),
            $"'{UserWithoutRanges}' has an /etc/subuid range; run 'bash testdata/ci/setup.sh'");
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-rootless-");
        string home = await PrepareAsync(temp, UserWithoutRanges, Dockerfile, ct);

        ProcessResult refused = await BuildAsync(runuser, UserWithoutRanges, home, [], env, temp, "refused", ct);

        Assert.Equal(1, refused.ExitCode);
        string[] errors = [.. refused.StandardError.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal))];
        string error = Assert.Single(errors);
        Assert.Matches($"""^error: rootless RUN steps need subordinate ids: add "{UserWithoutRanges}:(\d+):65536" to /etc/subuid and /etc/subgid """ +
            $@"\(or: usermod --add-subuids \1-\d+ --add-subgids \1-\d+ {UserWithoutRanges}\)$", error);
        Assert.False(File.Exists(temp.Combine("out", "refused.tar")), "no output for a refused build");
        string root = Path.Combine(home, ".local", "share", "dbuild");
        Assert.False(Directory.Exists(Path.Combine(root, "runtime")), "no step ran");
        Assert.False(Directory.Exists(Path.Combine(root, "buildcache", "keys")) && Directory.EnumerateFiles(Path.Combine(root, "buildcache", "keys")).Any(),
            "no step was cached: the COPY before the RUN did not run either");

        // Without RUN steps the user builds as before.
        await File.WriteAllTextAsync(temp.Combine("ctx", "Dockerfile"), "ARG BASE\nFROM ${BASE}\nCOPY hello.txt /hello.txt\n", ct);
        ProcessResult copyOnly = await BuildAsync(runuser, UserWithoutRanges, home, [], env, temp, "copy", ct);
        Assert.True(copyOnly.ExitCode == 0, $"a build without RUN steps failed:\n{copyOnly.StandardError}");
        Assert.Equal("hello\n", (await ReadOciImageAsync(temp.Combine("out", "copy.tar"), temp.Combine("copy"), ct))["hello.txt"].Content);
    }

    [Fact]
    public async Task Build_PlainUserWithRanges_SameProcessInTheNamespace_SigtermCancelsAndCleansUp()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string runuser = Require(User);
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-rootless-");
        string home = await PrepareAsync(temp, User, "ARG BASE\nFROM ${BASE}\nRUN sleep 4242\n", ct);
        const string Step = "sleep 424[2]"; // a pattern that does not match itself in pgrep's own command line

        Task<ProcessResult> build = BuildAsync(runuser, User, home, [], env, temp, "cancelled", ct);
        Assert.True(await WaitForAsync(async () => (await PgrepAsync(["-f", Step], ct)).Length > 0, build, ct), "the RUN step never started");
        string[] dbuild = await PgrepAsync(["-u", User, "-f", $@"dbuild\.dll build .*{temp.Combine("ctx").Replace(".", @"\.", StringComparison.Ordinal)}"], ct);
        string pid = Assert.Single(dbuild); // execve: the process the user started is the one in the namespace
        Assert.NotEqual(await ReadLinkAsync("/proc/self/ns/user", ct), await ReadLinkAsync($"/proc/{pid}/ns/user", ct));
        (await ProcessRunner.RunAsync("kill", ["-TERM", pid], ct)).EnsureSuccess();
        ProcessResult cancelled = await build;

        Assert.True(cancelled.ExitCode == 130, $"exit {cancelled.ExitCode}:\n{cancelled.StandardError}");
        Assert.Contains("dbuild: cancelled", cancelled.StandardError, StringComparison.Ordinal);
        Assert.True(await WaitForAsync(async () => (await PgrepAsync(["-f", Step], ct)).Length == 0, null, ct), "the RUN step's process outlived the build");
    }

    private static async Task<string[]> PgrepAsync(string[] arguments, CancellationToken ct) =>
        (await ProcessRunner.RunAsync("pgrep", arguments, ct)).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static async Task<string> ReadLinkAsync(string path, CancellationToken ct) =>
        (await ProcessRunner.RunAsync("readlink", [path], ct)).EnsureSuccess().StandardOutput.Trim();

    /// <summary>Polls <paramref name="condition"/> for up to a minute; false when it never held (or <paramref name="running"/> ended first).</summary>
    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition, Task? running, CancellationToken ct)
    {
        for (int i = 0; i < 240 && running?.IsCompleted != true; i++)
        {
            if (await condition()) { return true; }
            await Task.Delay(250, ct);
        }
        return false;
    }

    private static string Require(string user)
    {
        Prerequisites.RequireRoot("switches to an unprivileged test user with runuser");
        Prerequisites.RequireTool("runc", "runc");
        Prerequisites.RequireTool("newuidmap", "uidmap");
        Prerequisites.Require(File.ReadAllLines("/etc/passwd").Any(l => l.StartsWith(user + ":", StringComparison.Ordinal)),
            $"no user '{user}'; run 'bash testdata/ci/setup.sh'");
        return Prerequisites.RequireTool("runuser", "util-linux");
    }

    private static long FirstRange(string file, string user)
    {
        string? line = File.ReadAllLines(file).FirstOrDefault(l => l.StartsWith(user + ":", StringComparison.Ordinal));
        Prerequisites.Require(line is not null, $"no {file} range for '{user}'; run 'bash testdata/ci/setup.sh'");
        string[] fields = line!.Split(':');
        Prerequisites.Require(fields[2] == "65536", $"{file}: '{user}' should have 65536 ids ({line})");
        return long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A home (the state root's parent) and an output folder the user owns, and the build context.</summary>
    private static async Task<string> PrepareAsync(TempDirectory temp, string user, string dockerfile, CancellationToken ct)
    {
        File.SetUnixFileMode(temp.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
            UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(temp.Combine("ctx"));
        await File.WriteAllTextAsync(temp.Combine("ctx", "Dockerfile"), dockerfile, ct);
        await File.WriteAllTextAsync(temp.Combine("ctx", "hello.txt"), "hello\n", ct);
        Directory.CreateDirectory(temp.Combine("home"));
        Directory.CreateDirectory(temp.Combine("out"));
        (await ProcessRunner.RunAsync("chown", [$"{user}:{user}", temp.Combine("home"), temp.Combine("out")], ct)).EnsureSuccess();
        return temp.Combine("home");
    }

    private static Task<ProcessResult> BuildAsync(string runuser, string user, string home, string[] wrapper, BuildEnvironment env, TempDirectory temp,
        string name, CancellationToken ct, string? dockerfileOnStdin = null) =>
        RunAsUserAsync(runuser, user, home, wrapper,
            ["build", "--progress", "plain", "--build-arg", "BASE=" + env.BaseImage, "--metadata-file", temp.Combine("out", name + ".json"),
             "-o", $"type=oci,dest={temp.Combine("out", name + ".tar")}", .. dockerfileOnStdin is null ? Array.Empty<string>() : ["-f", "-"], temp.Combine("ctx")],
            ct, dockerfileOnStdin);

    /// <summary>Runs dbuild as <paramref name="user"/> the way the user types it (the default state root under HOME).</summary>
    private static Task<ProcessResult> RunAsUserAsync(string runuser, string user, string home, string[] wrapper, string[] arguments, CancellationToken ct,
        string? standardInput = null) =>
        ProcessRunner.RunAsync(runuser,
            ["-u", user, "--", "env", "-u", "DBUILD_ROOT", "-u", "XDG_DATA_HOME", "-u", "_DBUILD_USERNS", $"HOME={home}", "DOTNET_CLI_TELEMETRY_OPTOUT=1",
             .. wrapper, "dotnet", DbuildCli.DllPath, .. arguments], ct, standardInput: standardInput, timeout: TimeSpan.FromMinutes(3));

    private static async Task<string> IdOfAsync(string user, CancellationToken ct, string flag = "-u") =>
        (await ProcessRunner.RunAsync("id", [flag, user], ct)).EnsureSuccess().StandardOutput.Trim();

    private static async Task<string> StatAsync(string path, CancellationToken ct) =>
        (await ProcessRunner.RunAsync("stat", ["-c", "%u:%g", path], ct)).EnsureSuccess().StandardOutput.Trim();

    private static async Task<IReadOnlyList<(string Name, bool Cached)>> StepsAsync(string metadataFile, CancellationToken ct)
    {
        using JsonDocument meta = JsonDocument.Parse(await File.ReadAllTextAsync(metadataFile, ct));
        var steps = meta.RootElement.GetProperty("dbuild.steps").EnumerateArray()
            .Select(s => (s.GetProperty("name").GetString() ?? "", s.GetProperty("cached").GetBoolean()))
            .Where(s => s.Item1.Contains("RUN", StringComparison.Ordinal) || s.Item1.Contains("COPY", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, steps.Count);
        return steps;
    }

    private static (int, int) Owner(Dictionary<string, (int Uid, int Gid, string Content)> files, string path, string? layerOf = null) =>
        files.TryGetValue(layerOf is null ? path : $"{layerOf}:{path}", out var file) ? (file.Uid, file.Gid) : throw new Xunit.Sdk.XunitException($"{path} is not in the image");

    /// <summary>
    /// The merged files of a type=oci tar's one image (path → owner, and content of small files); a file that the
    /// second layer (the COPY) holds is also listed as <c>COPY:path</c>.
    /// </summary>
    private static async Task<Dictionary<string, (int Uid, int Gid, string Content)>> ReadOciImageAsync(string tar, string scratch, CancellationToken ct)
    {
        Directory.CreateDirectory(scratch);
        await TarFile.ExtractToDirectoryAsync(tar, scratch, overwriteFiles: true, ct);
        string Blob(Digest d) => Path.Combine(scratch, "blobs", d.Algorithm, d.Encoded);
        ImageIndex index = ImageIndex.Parse(await File.ReadAllBytesAsync(Path.Combine(scratch, "index.json"), ct));
        ImageManifest manifest = ImageManifest.Parse(await File.ReadAllBytesAsync(Blob(index.Manifests[0].Digest), ct));
        var files = new Dictionary<string, (int, int, string)>(StringComparer.Ordinal);
        for (int i = 0; i < manifest.Layers.Count; i++)
        {
            await using FileStream blob = File.OpenRead(Blob(manifest.Layers[i].Digest));
            await using Stream layer = await LayerReader.OpenDecompressedAsync(blob, cancellationToken: ct);
            using var reader = new TarReader(layer);
            while (await reader.GetNextEntryAsync(cancellationToken: ct) is { } entry)
            {
                string name = entry.Name.TrimStart('.', '/').TrimEnd('/');
                string content = entry.DataStream is { Length: < 4096 } data ? await new StreamReader(data).ReadToEndAsync(ct) : "";
                files[name] = (entry.Uid, entry.Gid, content);
                if (i == 1) { files["COPY:" + name] = (entry.Uid, entry.Gid, content); }
            }
        }
        return files;
    }
}
