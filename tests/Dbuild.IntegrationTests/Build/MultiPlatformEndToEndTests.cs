using System.Text.Json;
using System.Text.RegularExpressions;
using Dbuild.IntegrationTests.Registry;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// <c>dbuild build --platform linux/amd64,linux/arm64 --push</c> to <c>dbuild registry serve</c>, FROM the offline
/// two-platform busybox (testdata/images/make-busybox-multiarch-layout.sh): the pushed manifest list as skopeo and
/// docker see it, the arm64 RUN under qemu-user, and the arm64 image against BuildKit's build of the same Dockerfile.
/// The build runs once per test process (<see cref="Built"/>); each test checks one thing of it.
/// </summary>
public sealed class MultiPlatformEndToEndTests
{
    // The build-platform stage does not depend on TARGETARCH, so both targets share its one run; the final stage's RUN
    // runs once per target, natively for amd64 and under qemu-aarch64 for arm64.
    private const string Dockerfile = """
        ARG BASE
        FROM --platform=$BUILDPLATFORM $BASE AS build
        RUN echo "build stage on $(uname -m)" | tee /build.txt
        FROM $BASE
        ARG TARGETARCH
        COPY --from=build /build.txt /build.txt
        RUN echo "run step for $TARGETARCH on $(uname -m)" | tee /arch.txt
        CMD ["cat", "/arch.txt"]
        """;

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Built? _built;

    /// <summary><see cref="Image"/> is the default push (a Docker manifest list), <see cref="OciImage"/> the same build with oci-mediatypes=true.</summary>
    private sealed record Built(RegistryServer Registry, string Image, string OciImage, string Context, string BaseImage, string Digest, string BuildLog, string DockerHost);

    private static string MultiArchLayout => Environment.GetEnvironmentVariable("DBUILD_TEST_BUSYBOX_MULTIARCH_OCI")
        ?? Path.Combine(Prerequisites.StateDirectory, "busybox-multiarch-oci");

    public static TheoryData<bool> MediaTypes => new(false, true);

    [Theory]
    [MemberData(nameof(MediaTypes))]
    public async Task Push_SkopeoInspectRaw_ShowsIndexOfBothPlatforms(bool oci)
    {
        Built built = await BuildAsync(TestContext.Current.CancellationToken);

        string raw = await Tools.SkopeoAsync(TestContext.Current.CancellationToken, "inspect", "--raw", "--tls-verify=false", "docker://" + (oci ? built.OciImage : built.Image));

        using JsonDocument index = JsonDocument.Parse(raw);
        Assert.Equal(oci ? Dbuild.Oci.MediaTypes.OciIndex : Dbuild.Oci.MediaTypes.DockerManifestList, index.RootElement.GetProperty("mediaType").GetString());
        Assert.All(index.RootElement.GetProperty("manifests").EnumerateArray(), m =>
            Assert.Equal(oci ? Dbuild.Oci.MediaTypes.OciManifest : Dbuild.Oci.MediaTypes.DockerManifest, m.GetProperty("mediaType").GetString()));
        Assert.Equal(["linux/amd64", "linux/arm64"], index.RootElement.GetProperty("manifests").EnumerateArray()
            .Select(m => m.GetProperty("platform").GetProperty("os").GetString() + "/" + m.GetProperty("platform").GetProperty("architecture").GetString()));
    }

    [Fact]
    public async Task Push_MetadataFileDigest_IsTheDigestServed()
    {
        Built built = await BuildAsync(TestContext.Current.CancellationToken);

        using var client = new HttpClient();
        (_, string served, _) = await Tools.GetManifestAsync(client, built.Registry.BaseUrl, "mp/app", "1", TestContext.Current.CancellationToken);
        Assert.Equal(built.Digest, served); // --metadata-file's containerimage.digest
    }

    [Fact]
    public async Task Push_SkopeoCopyAll_CopiesTheIndexAndBothImages()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Built built = await BuildAsync(ct);
        using var temp = new TempDirectory("dbuild-mp-copy-");

        await Tools.SkopeoAsync(ct, "copy", "--all", "--src-tls-verify=false", "docker://" + built.Image, $"oci:{temp.Path}:app");

        // An oci: layout takes OCI media types, so skopeo converts the manifest list (new digests, same images).
        using JsonDocument layout = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(temp.Path, "index.json"), ct));
        using JsonDocument index = JsonDocument.Parse(await File.ReadAllTextAsync(Blob(temp.Path, layout.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!), ct));
        Assert.Equal(["amd64", "arm64"], index.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("platform").GetProperty("architecture").GetString()));
        foreach (JsonElement entry in index.RootElement.GetProperty("manifests").EnumerateArray())
        {
            using JsonDocument manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Blob(temp.Path, entry.GetProperty("digest").GetString()!), ct));
            foreach (JsonElement blob in manifest.RootElement.GetProperty("layers").EnumerateArray().Append(manifest.RootElement.GetProperty("config")))
            {
                Assert.True(File.Exists(Blob(temp.Path, blob.GetProperty("digest").GetString()!)), $"{blob} not copied");
            }
        }
    }

    private static string Blob(string layout, string digest) => Path.Combine(layout, "blobs", digest.Replace(':', '/'));

    [Fact]
    public async Task Build_Arm64RunStep_RanUnderEmulation()
    {
        Built built = await BuildAsync(TestContext.Current.CancellationToken);

        Assert.Contains("run step for arm64 on aarch64", built.BuildLog, StringComparison.Ordinal);
        Assert.Contains("run step for amd64 on x86_64", built.BuildLog, StringComparison.Ordinal);
        Assert.Single(Regex.Matches(built.BuildLog, "#\\d+ [0-9.]+ build stage on x86_64")); // one run for both targets
    }

    [Theory]
    [MemberData(nameof(MediaTypes))]
    public async Task DockerPullArm64_Run_PrintsAarch64(bool oci)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Built built = await BuildAsync(ct);
        string image = oci ? built.OciImage : built.Image;
        try
        {
            (await DockerAsync(built, ct, "pull", "--platform", "linux/arm64", image)).EnsureSuccess();
            ProcessResult uname = (await DockerAsync(built, ct, "run", "--rm", "--network", "none", "--platform", "linux/arm64", image, "uname", "-m")).EnsureSuccess();
            ProcessResult cmd = (await DockerAsync(built, ct, "run", "--rm", "--network", "none", "--platform", "linux/arm64", image)).EnsureSuccess();

            Assert.Equal("aarch64\n", uname.StandardOutput);
            Assert.Equal("run step for arm64 on aarch64\n", cmd.StandardOutput);
        }
        finally { await DockerAsync(built, CancellationToken.None, "rmi", "-f", image); }
    }

    [Theory]
    [MemberData(nameof(MediaTypes))]
    public async Task PodmanPull_PicksEachPlatformsImage(bool oci)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Built built = await BuildAsync(ct);
        using var state = new TempDirectory("dbuild-mp-podman-");
        string image = oci ? built.OciImage : built.Image;
        var architectures = new List<string>();
        try
        {
            foreach (string arch in new[] { "amd64", "arm64" })
            {
                (await Tools.PodmanAsync(state.Path, ct, "pull", "--tls-verify=false", "--arch", arch, image)).EnsureSuccess();
                architectures.Add((await Tools.PodmanAsync(state.Path, ct, "image", "inspect", "--format", "{{.Architecture}}", image)).EnsureSuccess().StandardOutput.Trim());
            }
        }
        finally
        {
            await Tools.PodmanAsync(state.Path, CancellationToken.None, "rmi", "-a", "-f");
            await ProcessRunner.RunAsync("chmod", ["-R", "u+rwX", state.Path], CancellationToken.None); // vfs layers may be read-only
        }

        Assert.Equal(["amd64", "arm64"], architectures);
    }

    [Fact]
    public async Task Arm64Image_MatchesBuildKitsBuildOfTheSameDockerfile()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Built built = await BuildAsync(ct);
        using var temp = new TempDirectory("dbuild-mp-diff-");
        string buildkitTag = $"dbuild-mp/buildkit:{Guid.NewGuid():N}";
        string ours = $"{built.Registry.Host}/mp/ours:{Guid.NewGuid():N}";
        try
        {
            (await DockerAsync(built, ct, "build", "--platform", "linux/arm64", "--network", "none", "--build-arg", "BASE=" + built.BaseImage, "-t", buildkitTag, built.Context))
                .EnsureSuccess();
            (await DockerAsync(built, ct, "save", "-o", temp.Combine("buildkit.tar"), buildkitTag)).EnsureSuccess();
            (await DockerAsync(built, ct, "pull", "--platform", "linux/arm64", built.Image)).EnsureSuccess();
            (await DockerAsync(built, ct, "tag", built.Image, ours)).EnsureSuccess();
            (await DockerAsync(built, ct, "save", "-o", temp.Combine("dbuild.tar"), ours)).EnsureSuccess();

            ImageSummary expected = await ImageSummary.LoadAsync(temp.Combine("buildkit.tar"), temp.Combine("bk"), ct);
            ImageSummary actual = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);
            IReadOnlyList<string> differences = ImageSummary.Differences(expected, actual);

            Assert.Equal("arm64", actual.Config["architecture"]);
            Assert.True(differences.Count == 0, "the arm64 image differs from BuildKit's:\n" + string.Join('\n', differences.Take(40)));
        }
        finally { await DockerAsync(built, CancellationToken.None, "rmi", "-f", buildkitTag, ours, built.Image); }
    }

    private static Task<ProcessResult> DockerAsync(Built built, CancellationToken cancellationToken, params string[] arguments) =>
        ProcessRunner.RunAsync(BuildEnvironment.Docker, arguments, cancellationToken,
            new Dictionary<string, string?> { ["DOCKER_HOST"] = built.DockerHost, ["DOCKER_BUILDKIT"] = "1" }, timeout: TimeSpan.FromMinutes(5));

    /// <summary>
    /// Once per process: a dbuild registry holding the two-platform busybox, and the two-platform build of
    /// <see cref="Dockerfile"/> pushed to it. Prerequisites are checked on every call, so each test skips (or fails under CI) alone.
    /// </summary>
    private static async Task<Built> BuildAsync(CancellationToken cancellationToken)
    {
        string dockerHost = Prerequisites.RequireDocker();
        Prerequisites.RequireRoot("dbuild runs RUN steps through runc on overlay mounts");
        Prerequisites.RequireTool("skopeo", "skopeo");
        Prerequisites.Require(File.Exists(Path.Combine(MultiArchLayout, "index.json")),
            $"no two-platform busybox layout at {MultiArchLayout}; run 'bash testdata/ci/setup.sh' (it runs testdata/images/make-busybox-multiarch-layout.sh)");
        const string binfmt = "/proc/sys/fs/binfmt_misc/qemu-aarch64";
        Prerequisites.Require(File.Exists(binfmt) && File.ReadLines(binfmt).FirstOrDefault() == "enabled",
            $"{binfmt} is not enabled, so arm64 binaries cannot run here; install qemu-user-static and binfmt-support (bash testdata/ci/setup.sh does)");
        Prerequisites.Require(Dbuild.Oci.Platform.Current == Dbuild.Oci.Platform.LinuxAmd64, "these tests expect an amd64 host, with arm64 the emulated platform");
        await Gate.WaitAsync(cancellationToken);
        try
        {
            _built ??= await BuildOnceAsync(dockerHost, cancellationToken);
            return _built;
        }
        finally { Gate.Release(); }
    }

    private static async Task<Built> BuildOnceAsync(string dockerHost, CancellationToken cancellationToken)
    {
        var temp = new TempDirectory("dbuild-mp-e2e-");
        RegistryServer registry = await RegistryServer.StartDbuildAsync(temp.Path, temp.Combine("registry"), cancellationToken);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            registry.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            temp.Dispose();
        };
        string baseImage = $"{registry.Host}/busybox:latest";
        await Tools.SkopeoAsync(cancellationToken, "copy", "--all", "--dest-tls-verify=false", $"oci:{MultiArchLayout}:latest", "docker://" + baseImage);
        string context = temp.Combine("context");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), Dockerfile, cancellationToken);
        string image = $"{registry.Host}/mp/app:1";
        string ociImage = $"{registry.Host}/mp/app:oci";
        string[] common = ["build", "--root", temp.Combine("root"), "--progress", "plain", "--platform", "linux/amd64,linux/arm64", "--build-arg", "BASE=" + baseImage];

        ProcessResult build = (await BuildEnvironment.DbuildAsync([.. common, "-t", image, "--push", "--metadata-file", temp.Combine("metadata.json"), context],
            cancellationToken)).EnsureSuccess();
        (await BuildEnvironment.DbuildAsync([.. common, "--output", $"type=image,name={ociImage},push=true,oci-mediatypes=true", context], cancellationToken))
            .EnsureSuccess(); // every step cached: only the export differs
        using JsonDocument metadata = JsonDocument.Parse(await File.ReadAllTextAsync(temp.Combine("metadata.json"), cancellationToken));
        string digest = metadata.RootElement.GetProperty("containerimage.digest").GetString()!;
        return new Built(registry, image, ociImage, context, baseImage, digest, build.StandardOutput + build.StandardError, dockerHost);
    }
}
