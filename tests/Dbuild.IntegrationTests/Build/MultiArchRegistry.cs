using System.Text.Json;
using Dbuild.IntegrationTests.Registry;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// A registry:2 on 127.0.0.1 holding the offline linux/amd64+linux/arm64 busybox as multi-platform images made by other
/// tools: <c>skopeo/busybox:1</c> (<c>skopeo copy --all</c> of the OCI layout: an OCI index) and <c>podman/busybox:1</c>
/// (<c>podman manifest create/add</c> of the two single-platform images, <c>podman manifest push --all --format v2s2</c>:
/// a Docker manifest list), and the single-platform sources <c>src/amd64:1</c> and <c>src/arm64:1</c>. Started once per
/// test process; stopped when it exits.
/// </summary>
internal sealed class MultiArchRegistry
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static MultiArchRegistry? _instance;

    private MultiArchRegistry(DistributionRegistry registry) => Registry = registry;

    public DistributionRegistry Registry { get; }

    public string Host => Registry.Host;

    /// <summary>The two-platform image a tool made: <c>skopeo</c> or <c>podman</c>.</summary>
    public string Image(string source) => $"{Host}/{source}/busybox:1";

    public static string Layout => Environment.GetEnvironmentVariable("DBUILD_TEST_BUSYBOX_MULTIARCH_OCI")
        ?? Path.Combine(Prerequisites.StateDirectory, "busybox-multiarch-oci");

    public static async Task<MultiArchRegistry> GetAsync(CancellationToken cancellationToken)
    {
        Prerequisites.RequireTool("skopeo", "skopeo");
        Prerequisites.RequireTool("podman", "podman");
        Prerequisites.Require(File.Exists(Path.Combine(Layout, "index.json")),
            $"no two-platform busybox layout at {Layout}; run 'bash testdata/ci/setup.sh' (it runs testdata/images/make-busybox-multiarch-layout.sh)");
        await Gate.WaitAsync(cancellationToken);
        try
        {
            _instance ??= await StartAsync(cancellationToken);
            return _instance;
        }
        finally { Gate.Release(); }
    }

    private static async Task<MultiArchRegistry> StartAsync(CancellationToken cancellationToken)
    {
        DistributionRegistry registry = await DistributionRegistry.StartAsync(cancellationToken);
        var podmanState = new TempDirectory("dbuild-podman-list-");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            registry.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            ProcessRunner.RunAsync("chmod", ["-R", "u+rwX", podmanState.Path], CancellationToken.None).Wait(TimeSpan.FromSeconds(10));
            podmanState.Dispose();
        };
        var instance = new MultiArchRegistry(registry);
        await Tools.SkopeoAsync(cancellationToken, "copy", "--all", "--dest-tls-verify=false", $"oci:{Layout}:latest", "docker://" + instance.Image("skopeo"));
        foreach (string arch in new[] { "amd64", "arm64" })
        {
            await Tools.SkopeoAsync(cancellationToken, "copy", "--override-arch", arch, "--dest-tls-verify=false", $"oci:{Layout}:latest", $"docker://{registry.Host}/src/{arch}:1");
        }
        string state = podmanState.Path;
        // Podman's own temp dir (not /run/libpod, which other podman processes on the machine share).
        string[] podman = ["--tmpdir", podmanState.Combine("tmp"), "manifest"];
        (await Tools.PodmanAsync(state, cancellationToken, [.. podman, "create", "localhost/busybox-list:1"])).EnsureSuccess();
        foreach (string arch in new[] { "amd64", "arm64" })
        {
            (await Tools.PodmanAsync(state, cancellationToken, [.. podman, "add", "--tls-verify=false", "localhost/busybox-list:1", $"docker://{registry.Host}/src/{arch}:1"]))
                .EnsureSuccess();
        }
        (await Tools.PodmanAsync(state, cancellationToken, [.. podman, "push", "--all", "--format", "v2s2", "--tls-verify=false", "localhost/busybox-list:1",
            "docker://" + instance.Image("podman")])).EnsureSuccess();
        return instance;
    }

    /// <summary>The manifest or index the registry serves for a reference, as <c>skopeo inspect --raw</c> prints it, and its digest.</summary>
    public static async Task<(JsonDocument Document, string Digest)> RawAsync(string reference, CancellationToken cancellationToken)
    {
        string output = await Tools.SkopeoAsync(cancellationToken, "inspect", "--raw", "--tls-verify=false", "docker://" + reference);
        string raw = output.EndsWith('\n') ? output[..^1] : output; // the process runner ends the last line; these tools write none
        return (JsonDocument.Parse(raw), Dbuild.Oci.Digest.Compute(System.Text.Encoding.UTF8.GetBytes(raw)).ToString());
    }

    /// <summary>The digest of the index's manifest for an architecture, and that manifest's config digest.</summary>
    public async Task<(string Manifest, string Config)> PlatformImageAsync(string source, string architecture, CancellationToken cancellationToken)
    {
        (JsonDocument index, _) = await RawAsync(Image(source), cancellationToken);
        using (index)
        {
            string manifest = index.RootElement.GetProperty("manifests").EnumerateArray()
                .Single(m => m.GetProperty("platform").GetProperty("architecture").GetString() == architecture).GetProperty("digest").GetString()!;
            (JsonDocument image, _) = await RawAsync($"{Host}/{source}/busybox@{manifest}", cancellationToken);
            using (image) { return (manifest, image.RootElement.GetProperty("config").GetProperty("digest").GetString()!); }
        }
    }
}
