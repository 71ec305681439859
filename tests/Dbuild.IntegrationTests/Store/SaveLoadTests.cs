using System.Text.Json;
using Dbuild.IntegrationTests.Build;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Store;

/// <summary>
/// <c>save</c> and <c>load</c> against the real tools: docker 20.10's load reads dbuild's archive (from a file and from a
/// pipe), dbuild loads docker's save (also xz, bzip2 or gzip through a pipe), skopeo reads dbuild's OCI archive and dbuild loads skopeo's; a corrupt archive
/// stores nothing.
/// </summary>
public sealed class SaveLoadTests
{
    private const string Body = "ENV GREETING=hello\nWORKDIR /app\nRUN echo saved > /app/file && mkdir -p /app/dir && echo two > /app/dir/two\nCMD [\"cat\", \"/app/file\"]";

    [Fact]
    public async Task Save_DockerLoadsFileAndPipe_RunsWithSameIdConfigAndFiles()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string tag = s.Prefix + "/saved:1";
        string id = await s.DbuildBuildAsync(await s.ContextAsync("saved", Body, ct), tag, ct);
        s.Track(tag);
        string archive = s.Combine("saved.tar");

        (await s.DbuildAsync(["save", "-o", archive, tag], ct)).EnsureSuccess();
        ProcessResult load = (await s.DockerAsync(["load", "-i", archive], ct)).EnsureSuccess();
        ProcessResult run = (await s.DockerAsync(["run", "--rm", "--network", "none", tag], ct)).EnsureSuccess();
        ProcessResult files = (await s.DockerAsync(["run", "--rm", "--network", "none", tag, "sh", "-c", "cat dir/two; echo $GREETING; pwd"], ct)).EnsureSuccess();
        ProcessResult inspect = (await s.DockerAsync(["image", "inspect", tag], ct)).EnsureSuccess();

        Assert.Equal($"Loaded image: {tag}\n", load.StandardOutput);
        Assert.Equal("saved\n", run.StandardOutput);
        Assert.Equal("two\nhello\n/app\n", files.StandardOutput);
        using JsonDocument docker = JsonDocument.Parse(inspect.StandardOutput);
        Assert.Equal(id, docker.RootElement[0].GetProperty("Id").GetString());

        (await s.DockerAsync(["rmi", tag], ct)).EnsureSuccess();
        ProcessResult piped = (await ProcessRunner.RunAsync("sh", ["-c", $"dotnet '{DbuildCli.DllPath}' --root '{s.Root}' save {tag} | {BuildEnvironment.Docker} load"], ct,
            s.Env.DockerEnvironment)).EnsureSuccess();
        Assert.Equal($"Loaded image: {tag}\n", piped.StandardOutput);
    }

    [Fact]
    public async Task DockerSave_DbuildLoad_SameImageId_AndBuildsFromIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string tag = s.Prefix + "/from-docker:1";
        string id = await s.DockerBuildAsync(await s.ContextAsync("docker", Body, ct), tag, ct);
        string archive = s.Combine("docker.tar");
        (await s.DockerAsync(["save", "-o", archive, tag], ct)).EnsureSuccess();

        ProcessResult load = (await s.DbuildAsync(["load", "-i", archive], ct)).EnsureSuccess();
        ProcessResult inspect = (await s.DbuildAsync(["inspect", tag], ct)).EnsureSuccess();
        string child = s.Combine("child");
        Directory.CreateDirectory(child);
        await File.WriteAllTextAsync(Path.Combine(child, "Dockerfile"), $"FROM {tag}\nRUN test \"$(cat /app/dir/two)\" = two && test \"$GREETING\" = hello && echo built > /app/child\n", ct);
        ProcessResult build = await s.DbuildAsync(["build", "--progress", "plain", "-t", s.Prefix + "/child:1", child], ct);

        Assert.Equal($"Loaded image: {tag}\n", load.StandardOutput);
        using JsonDocument json = JsonDocument.Parse(inspect.StandardOutput);
        Assert.Equal(id, json.RootElement[0].GetProperty("Id").GetString());
        Assert.True(build.ExitCode == 0, build.StandardError);
    }

    [Theory]
    [InlineData("xz")]
    [InlineData("bzip2")]
    [InlineData("gzip")]
    public async Task DockerSave_CompressedThroughAPipe_LoadsLikeDockerLoad(string compressor)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string tag = s.Prefix + "/piped:1";
        string id = await s.DockerBuildAsync(await s.ContextAsync("piped", Body, ct), tag, ct);
        string archive = s.Combine("docker.tar");
        (await s.DockerAsync(["save", "-o", archive, tag], ct)).EnsureSuccess();

        // A pipe, not a file: the reader cannot seek back over the bytes it looked at to tell the compression.
        ProcessResult dbuild = (await ProcessRunner.RunAsync("sh", ["-c", $"{compressor} -c '{archive}' | dotnet '{DbuildCli.DllPath}' --root '{s.Root}' load"], ct)).EnsureSuccess();
        (await s.DockerAsync(["rmi", tag], ct)).EnsureSuccess();
        ProcessResult docker = (await ProcessRunner.RunAsync("sh", ["-c", $"{compressor} -c '{archive}' | {BuildEnvironment.Docker} load"], ct, s.Env.DockerEnvironment)).EnsureSuccess();
        ProcessResult inspect = (await s.DbuildAsync(["inspect", "-f", "{{.Id}}", tag], ct)).EnsureSuccess();

        Assert.Equal($"Loaded image: {tag}\n", docker.StandardOutput);
        Assert.Equal(docker.StandardOutput, dbuild.StandardOutput);
        Assert.Equal(id + "\n", inspect.StandardOutput);
    }

    [Fact]
    public async Task Load_CorruptLayer_OneLineError_StoresNothing_KilledLoadsLeftoversGo()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string tag = s.Prefix + "/corrupt:1";
        string id = await s.DbuildBuildAsync(await s.ContextAsync("corrupt", Body, ct), tag, ct);
        string archive = s.Combine("corrupt.tar");
        (await s.DbuildAsync(["save", "-o", archive, tag], ct)).EnsureSuccess();
        byte[] bytes = await File.ReadAllBytesAsync(archive, ct);
        int layer = System.Text.Encoding.ASCII.GetString(bytes).IndexOf("/layer.tar", StringComparison.Ordinal);
        bytes[(layer / 512 + 1) * 512 + 700] ^= 0x5a; // a byte inside the first layer's content, past its tar header
        await File.WriteAllBytesAsync(archive, bytes, ct);
        string fresh = s.Combine("fresh");
        string leftover = Path.Combine(fresh, "content", "ingest", "load-4194303-0123456789abcdef"); // a killed load's staging (pid_max - 1: no such process)
        Directory.CreateDirectory(leftover);
        await File.WriteAllTextAsync(Path.Combine(leftover, "0"), "partial", ct);

        ProcessResult load = await BuildEnvironment.DbuildAsync(["--root", fresh, "load", "-i", archive], ct);

        Assert.Equal(1, load.ExitCode);
        Assert.Single(load.StandardError.TrimEnd('\n').Split('\n'));
        Assert.Contains("is not the layer its config names", load.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(fresh, "content", "blobs", "sha256")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(fresh, "content", "ingest")));
        Assert.DoesNotContain(id[7..19], (await BuildEnvironment.DbuildAsync(["--root", fresh, "images"], ct)).StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveOci_SkopeoReadsIt_LoadRoundTrip_AndSkopeoArchiveLoads()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string skopeo = Prerequisites.RequireTool("skopeo", "skopeo");
        string tag = s.Prefix + "/oci:1";
        string id = await s.DbuildBuildAsync(await s.ContextAsync("oci", Body, ct), tag, ct);
        string archive = s.Combine("oci.tar");

        (await s.DbuildAsync(["save", "--format", "oci", "-o", archive, tag], ct)).EnsureSuccess();
        ProcessResult inspect = (await ProcessRunner.RunAsync(skopeo, ["inspect", "--config", $"oci-archive:{archive}:1"], ct)).EnsureSuccess();
        string other = s.Combine("other");
        ProcessResult load = (await BuildEnvironment.DbuildAsync(["--root", other, "load", "-i", archive], ct)).EnsureSuccess();
        ProcessResult images = (await BuildEnvironment.DbuildAsync(["--root", other, "images"], ct)).EnsureSuccess();
        string copied = s.Combine("skopeo.tar");
        (await ProcessRunner.RunAsync(skopeo, ["copy", $"oci-archive:{archive}:1", $"oci-archive:{copied}:{s.Prefix}/copied:2"], ct)).EnsureSuccess();
        ProcessResult fromSkopeo = (await s.DbuildAsync(["load", "-i", copied], ct)).EnsureSuccess();
        ProcessResult copiedInspect = (await s.DbuildAsync(["inspect", s.Prefix + "/copied:2"], ct)).EnsureSuccess();

        using JsonDocument config = JsonDocument.Parse(inspect.StandardOutput);
        Assert.Contains("GREETING=hello", config.RootElement.GetProperty("config").GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal($"Loaded image: {tag}\n", load.StandardOutput);
        Assert.Contains(id[7..19], images.StandardOutput, StringComparison.Ordinal);
        Assert.Equal($"Loaded image: {s.Prefix}/copied:2\n", fromSkopeo.StandardOutput);
        using JsonDocument copiedJson = JsonDocument.Parse(copiedInspect.StandardOutput);
        Assert.Equal(id, copiedJson.RootElement[0].GetProperty("Id").GetString());
    }
}
