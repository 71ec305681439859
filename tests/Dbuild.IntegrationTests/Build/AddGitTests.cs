using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// ADD of a git repository served by <see cref="AddGitDaemon"/> on 127.0.0.1. The daemon's BuildKit (0.8, dockerfile
/// frontend of docker 20.10) cannot ADD a git URL (it reads git://… as a context path), but it can build FROM a git
/// context: its checkout, copied with <c>COPY . /dst/</c> by a Dockerfile in the repository, is the oracle for the tree
/// dbuild's <c>ADD &lt;url&gt; /dst/</c> makes (files, modes, symlinks, no .git; never mtimes).
/// </summary>
public sealed class AddGitTests(AddGitDaemon daemon) : IClassFixture<AddGitDaemon>
{
    [Theory]
    [InlineData("v1", "/src/", "v1", "Dockerfile")] // annotated tag, first commit
    [InlineData("v2", "/src/", "v2", "Dockerfile")] // lightweight tag
    [InlineData("main", "/src/", "main", "Dockerfile")] // branch
    [InlineData("v2:sub", "/sub/", "v2", "Dockerfile.sub")] // subdir, only its contents (BuildKit 0.8 has no git subdir: it copies sub/ instead)
    public async Task AddGit_Ref_SameTreeAsBuildKitGitContext(string fragment, string destination, string buildkitRef, string buildkitDockerfile)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-addgit-");
        string url = $"{daemon.Url("repo.git")}#{fragment}";
        string tag = $"dbuild-addgit/{fragment.Replace(':', '-')}:latest";
        (await env.DockerAsync(["build", "--network", "none", "-f", buildkitDockerfile, "-t", tag, $"{daemon.Url("repo.git")}#{buildkitRef}"], ct)).EnsureSuccess();
        (await env.DockerAsync(["save", "-o", temp.Combine("buildkit.tar"), tag], ct)).EnsureSuccess();

        await BuildAsync(temp, $"FROM scratch\nADD {url} {destination}\n", ct);

        ImageSummary buildkit = await ImageSummary.LoadAsync(temp.Combine("buildkit.tar"), temp.Combine("bk"), ct);
        ImageSummary dbuild = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);
        IReadOnlyList<string> differences = ImageSummary.Differences(buildkit, dbuild, compareHistory: false); // COPY . vs ADD <url>
        Assert.True(differences.Count == 0, $"ADD {url} differs from BuildKit's checkout:\n" + string.Join('\n', differences.Take(40)));
        Assert.DoesNotContain(dbuild.Files.Keys, p => p.Contains(".git/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddGit_KeepGitDir_KeepsRepositoryAtTheCommit()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-addgit-");
        string commit = await daemon.RevParseAsync("repo.git", "v2^{commit}", ct);

        await BuildAsync(temp, $"FROM scratch\nADD --keep-git-dir=true {daemon.Url("repo.git")}#v2 /kept/\n", ct);

        ImageSummary image = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);
        Assert.Contains("kept/a.txt", image.Files.Keys);
        string head = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(commit + "\n")))[..16];
        Assert.Equal($"file 644 0:0 41 {head}", image.Files["kept/.git/HEAD"]); // detached at the resolved commit
    }

    [Fact]
    public async Task AddGit_LinkAndChown_OwnedIndependentLayer()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-addgit-");

        await BuildAsync(temp, $"FROM scratch\nCOPY Dockerfile /first\nADD --link --chown=1000:1000 {daemon.Url("repo.git")}#v2 /owned/app/\n", ct);

        ImageSummary image = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);
        Assert.Equal("dir 755 1000:1000 0 ", image.Files["owned"]); // parents made afresh with the --chown owner
        Assert.StartsWith("file 755 1000:1000 ", image.Files["owned/app/run.sh"], StringComparison.Ordinal);
        Assert.StartsWith("symlink 777 1000:1000 ", image.Files["owned/app/link.txt"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddGit_UnknownRef_FailsNamingUrlAndRef()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-addgit-");
        string context = await ContextAsync(temp, $"FROM scratch\nADD {daemon.Url("repo.git")}#no-such-ref /src/\n", ct);

        ProcessResult result = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", context], ct);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"ADD {daemon.Url("repo.git")}#no-such-ref: the repository {daemon.Url("repo.git")} does not contain ref \"no-such-ref\"",
            result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddGit_Rebuild_CachedUntilTheBranchMoves_ThenMissSaysCommitChanged()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-addgit-");
        string dockerfile = $"FROM scratch\nADD {daemon.Url("moving.git")}#main /m/\n";
        await BuildAsync(temp, dockerfile, ct);
        var again = await BuildAsync(temp, dockerfile, ct);

        await daemon.MoveMainAsync("moved\n", ct);
        var moved = await BuildAsync(temp, dockerfile, ct);

        Assert.True(Assert.Single(again).Cached);
        Assert.Equal($"commit of {daemon.Url("moving.git")} changed", Assert.Single(moved).Reason);
        ImageSummary image = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);
        string moveHash = Convert.ToHexStringLower(SHA256.HashData("moved\n"u8))[..16];
        Assert.Equal($"file 644 0:0 6 {moveHash}", image.Files["m/a.txt"]);
    }

    private static async Task<string> ContextAsync(TempDirectory temp, string dockerfile, CancellationToken ct)
    {
        string context = temp.Combine("ctx");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), dockerfile, ct);
        return context;
    }

    /// <summary>dbuild build to temp/dbuild.tar; returns the steps from --metadata-file.</summary>
    private static async Task<List<(string Name, bool Cached, string? Reason)>> BuildAsync(TempDirectory temp, string dockerfile, CancellationToken ct)
    {
        string context = await ContextAsync(temp, dockerfile, ct);
        string meta = temp.Combine($"meta-{Guid.NewGuid():N}.json");
        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", "--metadata-file", meta,
            "-o", "type=docker,dest=" + temp.Combine("dbuild.tar"), context], ct)).EnsureSuccess();
        using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(meta, ct));
        return [.. json.RootElement.GetProperty("dbuild.steps").EnumerateArray().Select(s => (
            s.GetProperty("name").GetString()!,
            s.GetProperty("cached").GetBoolean(),
            s.GetProperty("reason").ValueKind == JsonValueKind.String ? s.GetProperty("reason").GetString() : null))];
    }
}
