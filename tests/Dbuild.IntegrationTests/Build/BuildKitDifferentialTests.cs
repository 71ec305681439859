using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// Builds each context in testdata/build with BuildKit (the oracle) and with dbuild, and compares the unpacked file
/// trees, the config fields, the history and the layer counts.
/// </summary>
public sealed class BuildKitDifferentialTests
{
    public static TheoryData<string> Contexts => new(
        "copy-basic", "copy-wildcards", "copy-chown-chmod", "copy-symlinks", "copy-dockerignore", "add-archives", "args-env", "metadata",
        "entrypoint-shell", "multistage", "workdir", "run-basic", "run-seccomp");

    [Theory]
    [MemberData(nameof(Contexts))]
    public async Task Build_Context_MatchesBuildKit(string name)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-diff-");
        string context = BuildEnvironment.Context(name);
        string[] extra = File.Exists(Path.Combine(context, "build-args")) ? [.. File.ReadAllLines(Path.Combine(context, "build-args")).Where(l => l.Length > 0).SelectMany(l => new[] { "--build-arg", l })] : [];
        string tag = $"dbuild-diff/{name}:latest";

        (await env.DockerAsync(["build", "--network", "none", "--build-arg", "BASE=" + env.BaseImage, .. extra, "-t", tag, context], ct)).EnsureSuccess();
        (await env.DockerAsync(["save", "-o", temp.Combine("buildkit.tar"), tag], ct)).EnsureSuccess();
        ProcessResult dbuild = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", "--build-arg", "BASE=" + env.BaseImage, .. extra,
            "-t", tag, "-o", "type=docker,dest=" + temp.Combine("dbuild.tar"), context], ct);
        dbuild.EnsureSuccess();

        ImageSummary expected = await ImageSummary.LoadAsync(temp.Combine("buildkit.tar"), temp.Combine("bk"), ct);
        ImageSummary actual = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);
        IReadOnlyList<string> differences = ImageSummary.Differences(expected, actual);

        Assert.True(differences.Count == 0, $"{name}: dbuild differs from BuildKit:\n" + string.Join('\n', differences.Take(40)));
    }
}
