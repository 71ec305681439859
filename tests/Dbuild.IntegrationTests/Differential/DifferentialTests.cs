using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Differential;

/// <summary>
/// Builds every context under testdata/differential/&lt;case&gt;/ with BuildKit (dockerd 20.10, the oracle) and with
/// dbuild, and compares the unpacked final file trees, the config fields, the history and the layer counts, and then
/// each layer's own entries (so a step's diff matches BuildKit's, not only the sum of them).
/// A case may hold <c>diff.args</c> (extra build arguments for both builders, one per line) and
/// <c>diff.prepare</c> (a shell script run in a copy of the case first: setuid modes, empty directories, archives).
/// A case with <c>diff.expected</c> is dbuild-only: it uses a feature the daemon's built-in Dockerfile frontend lacks, so dbuild's
/// tree under the listed top-level folders must equal those lines, written from BuildKit's documented behaviour.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DifferentialTests(DifferentialEnvironment environment) : IClassFixture<DifferentialEnvironment>
{
    /// <summary>testdata/differential, or DBUILD_DIFF_CASES (e.g. testdata/differential-pending, to try the cases dbuild still fails).</summary>
    public static string CasesRoot => Environment.GetEnvironmentVariable("DBUILD_DIFF_CASES") is { Length: > 0 } cases
        ? Path.GetFullPath(cases, RepositoryPaths.Root) : Path.Combine(RepositoryPaths.TestData, "differential");

    public static TheoryData<string> Cases => new(Directory.GetDirectories(CasesRoot).Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Build_Case_MatchesBuildKit(string name)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await environment.EnsureStartedAsync(ct);
        using var temp = new TempDirectory("dbuild-diff-");
        // Both builders read one copy of the case, after its diff.prepare (modes, empty dirs, archives git cannot hold).
        string context = temp.Combine("context");
        (await ProcessRunner.RunAsync("cp", ["-a", Path.Combine(CasesRoot, name), context], ct)).EnsureSuccess();
        if (File.Exists(Path.Combine(context, "diff.prepare")))
        {
            (await ProcessRunner.RunAsync("sh", ["-eu", "diff.prepare"], ct, workingDirectory: context)).EnsureSuccess();
        }
        string argsFile = Path.Combine(context, "diff.args");
        string[] extra = File.Exists(argsFile) ? [.. File.ReadAllLines(argsFile).Where(l => l.Length > 0)] : [];
        string[] common = ["--build-arg", "BASE=" + environment.BaseImage, .. extra];

        string expectedFile = Path.Combine(context, "diff.expected");
        if (File.Exists(expectedFile))
        {
            AssertDocumentedTree(name, expectedFile, await BuildWithDbuildAsync(name, context, common, temp, ct));
            return;
        }

        // BuildKit first: when dbuild fails, the oracle is known to have built the case.
        string tag = $"dbuild-diff/{name}:latest";
        (await environment.DockerAsync(["build", "--network", "none", "--progress", "plain", .. common, "-t", tag, context], ct)).EnsureSuccess();
        (await environment.DockerAsync(["save", "-o", temp.Combine("buildkit.tar"), tag], ct)).EnsureSuccess();
        ImageSnapshot expected = await ImageSnapshot.LoadAsync(temp.Combine("buildkit.tar"), temp.Combine("buildkit"), ct);
        ImageSnapshot actual = await BuildWithDbuildAsync(name, context, common, temp, ct);

        List<string> differences = ImageSnapshot.Compare(expected, actual);
        Assert.True(differences.Count == 0, $"{name}: dbuild differs from BuildKit in {differences.Count} places:\n" + string.Join('\n', differences.Take(60)));
    }

    private async Task<ImageSnapshot> BuildWithDbuildAsync(string name, string context, string[] common, TempDirectory temp, CancellationToken ct)
    {
        ProcessResult dbuild = await environment.DbuildAsync(
            ["build", "--progress", "plain", .. common, "-o", "type=docker,dest=" + temp.Combine("dbuild.tar"), context], ct);
        Assert.True(dbuild.ExitCode == 0, $"{name}: dbuild build failed (exit {dbuild.ExitCode}):\n{Tail(dbuild.StandardError + dbuild.StandardOutput)}");
        return await ImageSnapshot.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("dbuild"), ct);
    }

    /// <summary>diff.expected: "/path line" rows; dbuild's tree under the rows' top-level folders must be exactly these.</summary>
    private static void AssertDocumentedTree(string name, string expectedFile, ImageSnapshot actual)
    {
        var expected = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string row in File.ReadAllLines(expectedFile).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            int space = row.IndexOf(' ', StringComparison.Ordinal);
            expected[row[..space]] = row[(space + 1)..];
        }
        var roots = expected.Keys.Select(p => "/" + p.Split('/', StringSplitOptions.RemoveEmptyEntries)[0]).ToHashSet(StringComparer.Ordinal);
        var subtree = actual.Files.Where(f => roots.Any(r => f.Key == r || f.Key.StartsWith(r + "/", StringComparison.Ordinal)))
            .ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        List<string> differences = [.. ImageSnapshot.CompareTrees(expected, subtree, "documented")];
        Assert.True(differences.Count == 0, $"{name}: dbuild differs from BuildKit's documented result in {differences.Count} places:\n"
            + string.Join('\n', differences.Take(60)) + "\ndbuild's tree there:\n" + string.Join('\n', subtree.Select(f => $"{f.Key} {f.Value}")));
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : "…" + text[^4000..];
}
