using System.Globalization;
using System.Text;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Fuzz;

/// <summary>
/// Each SharpFuzz harness of fuzz/Dbuild.Fuzz under afl-fuzz (fuzz/run.sh) for 10 s: afl-fuzz really ran it
/// (executions, corpus growth past the seeds) and saved no crash or hang. Theory rows run one after another, so the
/// fuzzers never compete with each other for the CPUs.
/// </summary>
public sealed class FuzzTests
{
    private const int Seconds = 10;

    // A loaded two-core CI machine still runs well over 1000 executions a second in SharpFuzz's in-process loop.
    private const long MinimumExecutions = 2000;

    [Theory]
    [InlineData("dockerfile")]
    [InlineData("tar")]
    [InlineData("manifest")]
    [InlineData("reference")]
    [InlineData("route")]
    public async Task Harness_BoundedAflRun_ExecutesAndFindsNoCrash(string target)
    {
        CancellationToken token = TestContext.Current.CancellationToken;
        Prerequisites.RequireTool("afl-fuzz", "afl++");
        ProcessResult restore = await ProcessRunner.RunAsync("dotnet", ["tool", "restore"], token, workingDirectory: RepositoryPaths.Root,
            timeout: TimeSpan.FromMinutes(2));
        Prerequisites.Require(restore.ExitCode == 0, $"'dotnet tool restore' (SharpFuzz.CommandLine, .config/dotnet-tools.json) failed: {restore.StandardError}");
        string harness = HarnessDirectory();
        Prerequisites.Require(File.Exists(Path.Combine(harness, "Dbuild.Fuzz.dll")), $"no Dbuild.Fuzz.dll in {harness}; build fuzz/Dbuild.Fuzz");
        using var temp = new TempDirectory("dbuild-fuzz-test-");
        string output = temp.Combine("out");

        ProcessResult run = await ProcessRunner.RunAsync("bash", [Path.Combine(RepositoryPaths.Root, "fuzz", "run.sh"), target,
            Seconds.ToString(CultureInfo.InvariantCulture), output], token,
            environment: new Dictionary<string, string?> { ["DBUILD_FUZZ_BIN"] = harness, ["TMPDIR"] = temp.Path }, timeout: TimeSpan.FromMinutes(2));

        string findings = Findings(output, target);
        Assert.True(findings.Length == 0, findings);
        Assert.True(run.ExitCode == 0, $"fuzz/run.sh {target} exited {run.ExitCode}\n{run.StandardOutput}\n{run.StandardError}");
        Dictionary<string, string> stats = ReadStats(Path.Combine(output, "default", "fuzzer_stats"));
        long executions = long.Parse(stats["execs_done"], CultureInfo.InvariantCulture);
        Assert.True(executions >= MinimumExecutions, $"{target}: afl-fuzz ran the harness only {executions} times in {Seconds} s\n{run.StandardOutput}");
        int seeds = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.TestData, "fuzz", target), "*", SearchOption.AllDirectories).Count();
        long corpus = long.Parse(stats["corpus_count"], CultureInfo.InvariantCulture);
        Assert.True(corpus > seeds, $"{target}: the corpus did not grow past its {seeds} seeds ({corpus}): the harness is not instrumented");
    }

    /// <summary>Dbuild.Fuzz's own output folder beside this test's (artifacts/bin/Dbuild.Fuzz/&lt;config&gt;/).</summary>
    private static string HarnessDirectory()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return Path.Combine(testOutput.Parent!.Parent!.FullName, "Dbuild.Fuzz", testOutput.Name);
    }

    /// <summary>Every saved crash and hang as "target kind file: base64", empty when there is none.</summary>
    private static string Findings(string output, string target)
    {
        var text = new StringBuilder();
        foreach (string kind in new[] { "crashes", "hangs" })
        {
            string dir = Path.Combine(output, "default", kind);
            if (!Directory.Exists(dir)) { continue; }
            foreach (string file in Directory.EnumerateFiles(dir, "id:*").Order(StringComparer.Ordinal))
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{target}: {kind} {Path.GetFileName(file)}: {Convert.ToBase64String(File.ReadAllBytes(file))}");
            }
        }
        return text.Length == 0 ? "" : $"afl-fuzz found inputs that crash or hang the {target} harness; keep each under testdata/fuzz/{target}/regressions/ and fix the parser:\n{text}";
    }

    private static Dictionary<string, string> ReadStats(string path)
    {
        Assert.True(File.Exists(path), $"afl-fuzz wrote no {path}");
        var stats = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in File.ReadAllLines(path))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0) { stats[line[..colon].Trim()] = line[(colon + 1)..].Trim(); }
        }
        return stats;
    }
}
