using System.Text.Json;
using Dbuild.IntegrationTests.Registry;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.RegistryClient;

/// <summary>
/// <c>dbuild manifest</c>, <c>imagetools</c>, <c>pull -a/-q</c> and <c>push -a</c> next to docker 20.10 and skopeo on
/// the same registry (dbuild registry serve on 127.0.0.1), with images docker itself built and pushed.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class ManifestListDockerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class Setup : IAsyncDisposable
    {
        private readonly List<string> _dockerImages = [];

        private Setup(TempDirectory work, RegistryServer registry, string dockerHost) => (Work, Registry, DockerHost) = (work, registry, dockerHost);

        public TempDirectory Work { get; }
        public RegistryServer Registry { get; }
        public string DockerHost { get; }
        public string Host => Registry.Host;
        public string DockerConfig => Work.Combine("docker-config");

        public static async Task<Setup> StartAsync()
        {
            string dockerHost = Prerequisites.RequireDocker();
            string busybox = Prerequisites.RequireBusyboxLayout();
            var work = new TempDirectory();
            Directory.CreateDirectory(work.Combine("docker-config"));
            RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct);
            await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/oci/busybox:1");
            return new Setup(work, registry, dockerHost);
        }

        public async Task<ProcessResult> DockerAsync(params string[] arguments)
        {
            Prerequisites.RequireTool(Tools.Docker, "docker.io");
            return await ProcessRunner.RunAsync(Tools.Docker, ["--config", DockerConfig, .. arguments], Ct,
                environment: new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerHost, ["DOCKER_CLI_EXPERIMENTAL"] = "enabled" }, timeout: TimeSpan.FromMinutes(5));
        }

        /// <summary>docker builds busybox plus a label and pushes it: a Docker schema 2 image in the registry.</summary>
        public async Task<string> DockerImageAsync(string repository, string label)
        {
            string context = Work.Combine($"ctx-{label}");
            Directory.CreateDirectory(context);
            File.WriteAllText(Path.Combine(context, "Dockerfile"), $"FROM {Host}/oci/busybox:1\nLABEL dbuild.test={label}\n");
            string name = $"{Host}/{repository}";
            _dockerImages.Add(name);
            _dockerImages.Add($"{Host}/oci/busybox:1");
            (await DockerAsync("build", "-q", "-t", name, context)).EnsureSuccess();
            (await DockerAsync("push", name)).EnsureSuccess();
            return name;
        }

        public Task<ProcessResult> DbuildAsync(params string[] arguments) =>
            DbuildCli.RunAsync(["--root", Work.Combine("root"), .. arguments], Ct,
                new Dictionary<string, string?> { ["DOCKER_CONFIG"] = DockerConfig, ["DBUILD_CONFIG"] = null }, timeout: TimeSpan.FromMinutes(3));

        public void Remember(string dockerImage) => _dockerImages.Add(dockerImage);

        public async ValueTask DisposeAsync()
        {
            if (_dockerImages.Count > 0)
            {
                await ProcessRunner.RunAsync(Tools.Docker, ["--config", DockerConfig, "rmi", "-f", .. _dockerImages.Distinct()], CancellationToken.None,
                    environment: new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerHost });
            }
            await Registry.DisposeAsync();
            Work.Dispose();
        }
    }

    private static async Task<JsonElement> RawAsync(string reference)
    {
        string raw = await Tools.SkopeoAsync(Ct, "inspect", "--tls-verify=false", "--raw", $"docker://{reference}");
        return JsonDocument.Parse(raw).RootElement.Clone();
    }

    private static string[] Platforms(JsonElement index) =>
        [.. index.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("platform")).Select(p =>
            $"{p.GetProperty("os").GetString()}/{p.GetProperty("architecture").GetString()}" +
            (p.TryGetProperty("variant", out JsonElement v) ? "/" + v.GetString() : "")).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task ManifestCreateAnnotatePush_GivesDockersListByteForByte()
    {
        await using Setup setup = await Setup.StartAsync();
        string amd = await setup.DockerImageAsync("src/amd:1", "amd");
        string arm = await setup.DockerImageAsync("other/arm:1", "arm");
        string dockerList = $"{setup.Host}/lists/docker:1";
        string dbuildList = $"{setup.Host}/lists/dbuild:1";

        (await setup.DockerAsync("manifest", "create", "--insecure", dockerList, amd, arm)).EnsureSuccess();
        (await setup.DockerAsync("manifest", "annotate", dockerList, arm, "--arch", "arm64", "--variant", "v8", "--os-features", "a,b")).EnsureSuccess();
        ProcessResult dockerPush = (await setup.DockerAsync("manifest", "push", "--purge", "--insecure", dockerList)).EnsureSuccess();

        ProcessResult create = (await setup.DbuildAsync("manifest", "create", dbuildList, amd, arm)).EnsureSuccess();
        Assert.Equal($"Created manifest list {dbuildList}", create.StandardOutput.Trim());
        (await setup.DbuildAsync("manifest", "annotate", dbuildList, arm, "--arch", "arm64", "--variant", "v8", "--os-features", "a,b")).EnsureSuccess();
        ProcessResult again = await setup.DbuildAsync("manifest", "create", dbuildList, amd);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("refusing to amend an existing manifest list with no --amend flag", again.StandardError, StringComparison.Ordinal);
        ProcessResult push = (await setup.DbuildAsync("manifest", "push", dbuildList)).EnsureSuccess();

        // Same inputs, same bytes: the list digests are equal, and so are the "Pushed ref" lines but for the list name.
        string dockerDigest = dockerPush.StandardOutput.Trim().Split('\n')[^1];
        string dbuildDigest = push.StandardOutput.Trim().Split('\n')[^1];
        Assert.StartsWith("sha256:", dockerDigest, StringComparison.Ordinal);
        Assert.Equal(dockerDigest, dbuildDigest);
        Assert.Equal(dockerPush.StandardOutput.Replace("/lists/docker@", "/lists/dbuild@", StringComparison.Ordinal), push.StandardOutput);

        JsonElement index = await RawAsync(dbuildList);
        Assert.Equal(Dbuild.Oci.MediaTypes.DockerManifestList, index.GetProperty("mediaType").GetString());
        Assert.Equal(["linux/amd64", "linux/arm64/v8"], Platforms(index));
        // The members were copied into the list's repository, so the list pulls from there.
        (await setup.DbuildAsync("pull", "--platform", "linux/arm64/v8", dbuildList)).EnsureSuccess();

        (await setup.DbuildAsync("manifest", "rm", dbuildList)).EnsureSuccess();
        ProcessResult gone = await setup.DbuildAsync("manifest", "rm", dbuildList);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains($"No such manifest: {dbuildList}", gone.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManifestPush_WithAnOciMember_WritesAnOciIndex_AndAnnotateChecksThePlatform()
    {
        await using Setup setup = await Setup.StartAsync();
        string docker = await setup.DockerImageAsync("src/docker:1", "docker");
        string list = $"{setup.Host}/lists/mixed:1";
        (await setup.DbuildAsync("manifest", "create", list, docker, $"{setup.Host}/oci/busybox:1")).EnsureSuccess();
        ProcessResult bad = await setup.DbuildAsync("manifest", "annotate", list, docker, "--os", "linux", "--arch", "armx");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("manifest entry for image has unsupported os/arch combination: linux/armx", bad.StandardError, StringComparison.Ordinal);
        ProcessResult missing = await setup.DbuildAsync("manifest", "annotate", list, $"{setup.Host}/not/listed:1", "--arch", "arm64");
        Assert.Contains($"manifest for image {setup.Host}/not/listed:1 does not exist in {list}", missing.StandardError, StringComparison.Ordinal);
        (await setup.DbuildAsync("manifest", "annotate", list, docker, "--arch", "s390x")).EnsureSuccess();
        (await setup.DbuildAsync("manifest", "push", "--purge", list)).EnsureSuccess();

        JsonElement index = await RawAsync(list);
        Assert.Equal(Dbuild.Oci.MediaTypes.OciIndex, index.GetProperty("mediaType").GetString());
        Assert.Equal(["linux/amd64", "linux/s390x"], Platforms(index));
        ProcessResult purged = await setup.DbuildAsync("manifest", "inspect", list);
        purged.EnsureSuccess(); // no local list any more: the registry's is shown
        Assert.Contains(Dbuild.Oci.MediaTypes.OciIndex, purged.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Imagetools_CreateAppendDryRunAndInspect()
    {
        await using Setup setup = await Setup.StartAsync();
        string docker = await setup.DockerImageAsync("src/docker:1", "docker");
        string target = $"{setup.Host}/tools/combined:1";

        ProcessResult dry = (await setup.DbuildAsync("imagetools", "create", "--dry-run", "-t", target, docker)).EnsureSuccess();
        JsonElement planned = JsonDocument.Parse(dry.StandardOutput).RootElement;
        Assert.Equal(Dbuild.Oci.MediaTypes.DockerManifestList, planned.GetProperty("mediaType").GetString());
        await Assert.ThrowsAnyAsync<Exception>(() => RawAsync(target)); // nothing pushed

        (await setup.DbuildAsync("imagetools", "create", "-t", target, docker)).EnsureSuccess();
        (await setup.DbuildAsync("buildx", "imagetools", "create", "--append", "-t", target, $"{setup.Host}/oci/busybox:1")).EnsureSuccess();
        JsonElement index = await RawAsync(target);
        Assert.Equal(Dbuild.Oci.MediaTypes.OciIndex, index.GetProperty("mediaType").GetString());
        Assert.Equal(2, index.GetProperty("manifests").GetArrayLength());

        string raw = await Tools.SkopeoAsync(Ct, "inspect", "--tls-verify=false", "--raw", $"docker://{target}");
        ProcessResult inspectRaw = (await setup.DbuildAsync("imagetools", "inspect", "--raw", target)).EnsureSuccess();
        Assert.Equal(raw, inspectRaw.StandardOutput);
        ProcessResult inspect = (await setup.DbuildAsync("imagetools", "inspect", target)).EnsureSuccess();
        using var http = new HttpClient();
        (_, string digest, _) = await Tools.GetManifestAsync(http, setup.Registry.BaseUrl, "tools/combined", "1", Ct);
        Assert.StartsWith($"Name:      {target}\nMediaType: {Dbuild.Oci.MediaTypes.OciIndex}\nDigest:    {digest}\n\nManifests:\n", inspect.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("  Platform:  linux/amd64", inspect.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAllTags_GetsTheTagsDockerGets_QuietPrintsTheName_PushAllTags()
    {
        await using Setup setup = await Setup.StartAsync();
        string repository = $"{setup.Host}/many/busybox";
        foreach (string tag in new[] { "1", "2", "edge" })
        {
            await Tools.SkopeoAsync(Ct, "copy", "--src-tls-verify=false", "--dest-tls-verify=false", $"docker://{setup.Host}/oci/busybox:1", $"docker://{repository}:{tag}");
        }
        setup.Remember(repository);
        ProcessResult dockerPull = (await setup.DockerAsync("pull", "-a", repository)).EnsureSuccess();
        ProcessResult dockerTags = (await setup.DockerAsync("images", "--format", "{{.Tag}}", repository)).EnsureSuccess();
        ProcessResult pull = (await setup.DbuildAsync("pull", "-a", repository)).EnsureSuccess();
        // docker's lines but the per-layer progress (which depends on what the daemon already had).
        static string[] Summary(string output) => [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, "^(\\S+: Pulling from |Digest: |Status: |127\\.0\\.0\\.1:)"))];
        Assert.Equal(Summary(dockerPull.StandardOutput), Summary(pull.StandardOutput));
        foreach (string tag in dockerTags.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Contains($"{tag}: Pulling from many/busybox", pull.StandardOutput, StringComparison.Ordinal);
            (await setup.DbuildAsync("inspect", $"{repository}:{tag}")).EnsureSuccess();
        }
        Assert.Equal(3, dockerTags.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        ProcessResult withTag = await setup.DbuildAsync("pull", "-a", $"{repository}:1");
        Assert.Equal(2, withTag.ExitCode);
        Assert.Contains("tag can't be used with --all-tags/-a", withTag.StandardError, StringComparison.Ordinal);

        ProcessResult dockerQuiet = (await setup.DockerAsync("pull", "-q", $"{repository}:2")).EnsureSuccess();
        ProcessResult quiet = (await setup.DbuildAsync("pull", "-q", $"{repository}:2")).EnsureSuccess();
        Assert.Equal(dockerQuiet.StandardOutput, quiet.StandardOutput);

        string copy = $"{setup.Host}/copied/busybox";
        foreach (string tag in new[] { "a", "b" }) { (await setup.DbuildAsync("tag", $"{repository}:1", $"{copy}:{tag}")).EnsureSuccess(); }
        ProcessResult push = (await setup.DbuildAsync("push", "-a", copy)).EnsureSuccess();
        Assert.StartsWith($"The push refers to repository [{copy}]\na: digest: sha256:", push.StandardOutput, StringComparison.Ordinal);
        string listed = await Tools.SkopeoAsync(Ct, "list-tags", "--tls-verify=false", $"docker://{copy}");
        Assert.Equal(["a", "b"], JsonDocument.Parse(listed).RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()).Order(StringComparer.Ordinal));
    }
}
