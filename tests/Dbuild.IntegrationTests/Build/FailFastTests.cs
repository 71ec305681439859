using System.Diagnostics;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// A step that fails while another runs: the build fails at once (not when the other step would have ended), with the
/// failing command and its exit code, and leaves nothing behind: no mount under the state root, no build temp dir, no
/// step directory, no container state in the OCI runtime, no process of the cancelled step.
/// </summary>
public sealed class FailFastTests
{
    [Fact]
    public async Task Build_StepFailsWhileAnotherRuns_FailsFastAndLeavesNothingBehind()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        Prerequisites.RequireRoot("RUN steps run through runc on overlay mounts");
        using var temp = new TempDirectory("dbuild-failfast-");
        string context = temp.Combine("ctx");
        Directory.CreateDirectory(context);
        string marker = $"{37 + Random.Shared.Next(1000, 9000)}"; // a sleep length nothing else on the machine uses
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), $"""
            ARG BASE
            FROM $BASE AS slow
            RUN --mount=type=cache,target=/cache --mount=type=bind,target=/ctx sleep {marker} && echo done > /slow

            FROM $BASE AS fails
            RUN --mount=type=tmpfs,target=/scratch sleep 2 && echo about to fail && exit 3

            FROM $BASE
            COPY --from=slow /slow /slow
            COPY --from=fails /etc/passwd /passwd
            """, ct);
        string root = temp.Combine("root");
        var clock = Stopwatch.StartNew();

        ProcessResult result = await BuildEnvironment.DbuildAsync(["--root", root, "build", "--progress", "plain", "--build-arg", "BASE=" + env.BaseImage, context], ct);

        clock.Stop();
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("exit code: 3", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("about to fail", result.StandardError, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"the build took {clock.Elapsed.TotalSeconds:F1}s: it waited for the slow step instead of cancelling it");
        Assert.Contains("sleep " + marker, result.StandardError, StringComparison.Ordinal); // the slow step had started

        string prefix = Path.GetFullPath(root) + "/";
        string[] mounts = [.. (await File.ReadAllLinesAsync("/proc/self/mountinfo", ct)).Where(l => l.Split(' ')[4].StartsWith(prefix, StringComparison.Ordinal))];
        Assert.True(mounts.Length == 0, "mounts left under the state root:\n" + string.Join('\n', mounts));
        Assert.Empty(Leftovers(Path.Combine(root, "tmp"), "*"));                    // the build's temp dir
        Assert.Empty(Leftovers(Path.Combine(root, "runtime", "work"), "dbuild-*")); // step directories
        Assert.Empty(Leftovers(Path.Combine(root, "runtime", "runc"), "*"));        // container state
        Assert.Empty(Leftovers(Path.Combine(root, "runtime", "crun"), "*"));
        Assert.False(SleepStillRunning(marker), $"the cancelled step's 'sleep {marker}' is still running");
    }

    private static string[] Leftovers(string directory, string pattern) =>
        Directory.Exists(directory) ? Directory.GetFileSystemEntries(directory, pattern) : [];

    private static bool SleepStillRunning(string marker)
    {
        foreach (string dir in Directory.EnumerateDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.StartsWith("sleep " + marker, StringComparison.Ordinal)) { return true; }
            }
            catch (IOException) { } // the process ended while looking
            catch (UnauthorizedAccessException) { }
        }
        return false;
    }
}
