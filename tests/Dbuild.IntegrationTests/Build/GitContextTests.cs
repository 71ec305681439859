using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// <c>dbuild build -t x GIT-URL</c> against a git daemon on 127.0.0.1, with docker 20.10 (BuildKit 0.8, which also
/// takes git URLs) building the same URL as the oracle. BuildKit 0.8 has no <c>:subdir</c>, so for <c>#ref:subdir</c>
/// the oracle is docker building <c>git archive ref:subdir</c> from stdin. (BuildKit 0.8 reads no ref as "master", not
/// the default branch, so the default-branch case has no oracle.) As in BuildKit, a fetched context's .dockerignore
/// does not apply.
/// </summary>
public sealed class GitContextTests(AddGitDaemon daemon) : IClassFixture<AddGitDaemon>
{
    [Theory]
    [InlineData("#v1")] // annotated tag
    [InlineData("#v2")] // lightweight tag
    [InlineData("#main")] // branch
    public async Task GitContext_Ref_SameImageAsBuildKit(string fragment)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-gitctx-");
        string url = daemon.Url("repo.git") + fragment;
        string tag = $"dbuild-gitctx/{Guid.NewGuid():N}:latest";
        (await env.DockerAsync(["build", "--network", "none", "-t", tag, url], ct)).EnsureSuccess();

        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", "-t", "x",
            "-o", "type=docker,dest=" + temp.Combine("dbuild.tar"), url], ct)).EnsureSuccess();

        await ContextOracle.AssertSameImageAsync(env, temp, tag, temp.Combine("dbuild.tar"), url, ct);
    }

    [Fact]
    public async Task GitContext_RefAndSubdir_BuildsTheSubdirWithItsDockerfile()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-gitctx-");
        string tree = temp.Combine("tree");
        string app = Path.Combine(tree, "app");
        Directory.CreateDirectory(Path.Combine(app, "bin"));
        await File.WriteAllTextAsync(Path.Combine(tree, "Dockerfile"), "FROM scratch\nCOPY . /top/\n", ct);
        await File.WriteAllTextAsync(Path.Combine(app, "Dockerfile"), "FROM scratch\nCOPY . /app/\nLABEL from=subdir\n", ct);
        await File.WriteAllTextAsync(Path.Combine(app, ".dockerignore"), "secret.txt\n", ct);
        await File.WriteAllTextAsync(Path.Combine(app, "secret.txt"), "not for the image\n", ct);
        await File.WriteAllTextAsync(Path.Combine(app, "x.txt"), "x\n", ct);
        await File.WriteAllTextAsync(Path.Combine(app, "bin", "run.sh"), "#!/bin/sh\necho run\n", ct);
        File.SetUnixFileMode(Path.Combine(app, "bin", "run.sh"), (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(app, "link"), "x.txt");
        string repository = $"ctx-{Guid.NewGuid():N}.git";
        await daemon.CreateRepositoryAsync(repository, tree, "v3", ct);
        string archive = temp.Combine("app.tar");
        (await ProcessRunner.RunAsync("git", ["-c", "tar.umask=022", "--git-dir", daemon.Served(repository), "archive", "--format=tar", "-o", archive, "v3:app"], ct)).EnsureSuccess();
        string tag = $"dbuild-gitctx/{Guid.NewGuid():N}:latest";
        (await env.DockerWithStdinAsync(archive, ["build", "--network", "none", "-t", tag, "-"], ct)).EnsureSuccess();
        string url = daemon.Url(repository) + "#v3:app";

        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", "-t", "x",
            "-o", "type=docker,dest=" + temp.Combine("dbuild.tar"), url], ct)).EnsureSuccess();

        await ContextOracle.AssertSameImageAsync(env, temp, tag, temp.Combine("dbuild.tar"), url, ct);
        ImageSummary image = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);
        Assert.Contains("app/x.txt", image.Files.Keys);
        Assert.Contains("app/secret.txt", image.Files.Keys); // BuildKit sends a fetched context whole, .dockerignore or not
        Assert.DoesNotContain(image.Files.Keys, p => p.StartsWith("top", StringComparison.Ordinal) || p.Contains(".git", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GitContext_Rebuild_AllStepsCached()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-gitctx-");
        string url = daemon.Url("repo.git") + "#v2";
        string[] build = ["build", "--root", temp.Combine("root"), "--progress", "plain", "--metadata-file", temp.Combine("meta.json"), url];
        (await BuildEnvironment.DbuildAsync(build, ct)).EnsureSuccess();

        (await BuildEnvironment.DbuildAsync(build, ct)).EnsureSuccess(); // a fresh checkout in a new temp directory: same keys

        using var meta = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(temp.Combine("meta.json"), ct));
        var steps = meta.RootElement.GetProperty("dbuild.steps").EnumerateArray().ToList();
        Assert.NotEmpty(steps);
        Assert.All(steps, s => Assert.True(s.GetProperty("cached").GetBoolean(), s.GetRawText()));
        Assert.False(Directory.Exists(temp.Combine("root", "buildcache", "context")) && Directory.EnumerateFiles(temp.Combine("root", "buildcache", "context")).Any(),
            "a fetched context's file hashes are not kept");
    }

    [Theory]
    [InlineData("#no-such-ref", "git context {0}#no-such-ref: the repository {0} does not contain ref \"no-such-ref\"")]
    [InlineData("#v2:no/such/dir", "git context {0}#v2:no/such/dir: the repository has no directory \"no/such/dir\"")]
    public async Task GitContext_BadRefOrSubdir_OneLineNamingTheUrl(string fragment, string expected)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-gitctx-");

        ProcessResult result = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain",
            daemon.Url("repo.git") + fragment], ct);

        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: " + string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, daemon.Url("repo.git")), line, StringComparison.Ordinal);
        Assert.Empty(result.StandardOutput);
    }

    [Fact]
    public async Task GitContext_UnreachableServer_OneLineWithGitsReason()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-gitctx-");
        string url = $"git://127.0.0.1:{RegistryClient.DistributionRegistry.FreePort()}/nothing.git";

        ProcessResult result = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), url], ct);

        Assert.Equal(1, result.ExitCode);
        string line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: git context {url}: git ls-remote failed (exit 128): ", line, StringComparison.Ordinal);
    }
}
