using System.Text.Json;
using Dbuild.IntegrationTests.Registry;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>dbuild build --push to registry:2 and to dbuild's own registry, then docker pull/run; docker load; reproducibility.</summary>
public sealed class EndToEndTests
{
    private static string[] BaseArg(BuildEnvironment env) => ["--build-arg", "BASE=" + env.BaseImage];

    [Fact]
    public async Task BuildPush_Registry2_DockerPullsAndRuns()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-e2e-");
        string image = $"{env.RegistryHost}/e2e/multistage:{Guid.NewGuid():N}";

        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", .. BaseArg(env), "-t", image, "--push",
            BuildEnvironment.Context("multistage")], ct)).EnsureSuccess();
        (await env.DockerAsync(["pull", image], ct)).EnsureSuccess();
        ProcessResult run = (await env.DockerAsync(["run", "--rm", "--network", "none", image, "cat", "/final/a.txt", "/final/b.txt"], ct)).EnsureSuccess();

        Assert.Equal("main\nlib\n", run.StandardOutput);
    }

    [Fact]
    public async Task BuildPush_DbuildRegistry_DockerPullsAndRuns()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-e2e-");
        await using RegistryServer server = await RegistryServer.StartDbuildAsync(temp.Path, temp.Combine("registry"), ct);
        string image = $"{server.Host}/e2e/app:1";

        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", .. BaseArg(env), "-t", image, "--push",
            BuildEnvironment.Context("copy-basic")], ct)).EnsureSuccess();
        (await env.DockerAsync(["pull", image], ct)).EnsureSuccess();
        ProcessResult run = (await env.DockerAsync(["run", "--rm", "--network", "none", image, "cat", "/renamed", "/both/b.txt"], ct)).EnsureSuccess();

        Assert.Equal("one\ntwo\n", run.StandardOutput);
    }

    [Fact]
    public async Task OutputDocker_DockerLoadAcceptsItAndRuns()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-e2e-");
        string tag = $"dbuild-load/app:{Guid.NewGuid():N}";

        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", .. BaseArg(env), "-t", tag,
            "-o", "type=docker,dest=" + temp.Combine("image.tar"), BuildEnvironment.Context("args-env")], ct)).EnsureSuccess();
        ProcessResult load = (await env.DockerAsync(["load", "-i", temp.Combine("image.tar")], ct)).EnsureSuccess();
        ProcessResult run = (await env.DockerAsync(["run", "--rm", "--network", "none", tag, "sh", "-c", "cat v1.0/version.txt; echo $NAME"], ct)).EnsureSuccess();

        Assert.Contains(tag, load.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("v\nhello world\n", run.StandardOutput);
    }

    [Fact]
    public async Task OutputOci_SkopeoInspectsIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-e2e-");

        (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "quiet", .. BaseArg(env), "-t", "example/oci:1",
            "-o", "type=oci,dest=" + temp.Combine("oci.tar"), BuildEnvironment.Context("metadata")], ct)).EnsureSuccess();
        ProcessResult inspect = (await ProcessRunner.RunAsync(Prerequisites.RequireTool("skopeo", "skopeo"), ["inspect", "oci-archive:" + temp.Combine("oci.tar")], ct)).EnsureSuccess();

        using JsonDocument json = JsonDocument.Parse(inspect.StandardOutput);
        Assert.Equal("meta", json.RootElement.GetProperty("Labels").GetProperty("org.opencontainers.image.title").GetString());
    }

    [Fact]
    public async Task SourceDateEpoch_TwoCleanRoots_SameImageDigest()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-repro-");
        var epoch = new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000" };
        var digests = new List<string>();
        foreach (string root in new[] { "root1", "root2" })
        {
            (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine(root), "--progress", "plain", .. BaseArg(env), "-t", "example/repro:1",
                "--metadata-file", temp.Combine(root + ".json"), BuildEnvironment.Context("run-basic")], ct, epoch)).EnsureSuccess();
            using JsonDocument meta = JsonDocument.Parse(await File.ReadAllTextAsync(temp.Combine(root + ".json"), ct));
            digests.Add(meta.RootElement.GetProperty("containerimage.digest").GetString()!);
        }

        Assert.Equal(digests[0], digests[1]);
    }
}
