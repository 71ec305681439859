using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.ForeignBases;

/// <summary>
/// One per test class: the foreign bases testdata/images/make-foreign-bases.sh made (cached under the test state folder;
/// made here when setup.sh has not yet), served by a registry:2 on 127.0.0.1 from a copy of their storage root, so each
/// base is <c>127.0.0.1:PORT/NAME:latest</c> byte for byte as its producer pushed it; and one dbuild state root.
/// </summary>
public sealed class ForeignBaseEnvironment : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TempDirectory _root = new("dbuild-foreign-root-");
    private DistributionRegistry? _registry;

    public string DockerHost { get; private set; } = "";

    /// <summary><c>127.0.0.1:PORT</c> of the registry holding the bases.</summary>
    public string RegistryHost { get; private set; } = "";

    public string DbuildRoot => _root.Path;

    public static string Docker => "/usr/bin/docker";

    /// <summary>Where make-foreign-bases.sh keeps its result (DBUILD_TEST_FOREIGN_BASES, as testdata/ci/env.sh says).</summary>
    public static string MadeDirectory => Environment.GetEnvironmentVariable("DBUILD_TEST_FOREIGN_BASES") is { Length: > 0 } dir
        ? dir : Path.Combine(Prerequisites.StateDirectory, "foreign-bases");

    /// <summary>Debian's busybox-static:arm64 binary, unpacked by testdata/ci/setup.sh (the multi-arch bases' arm64 half).</summary>
    public static string Arm64Busybox => Path.Combine(Prerequisites.StateDirectory, "debs", "busybox-arm64", "bin", "busybox");

    /// <summary>The base as a reference both builders pull.</summary>
    public string Reference(string baseName) => $"{RegistryHost}/{baseName}:latest";

    public async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        string dockerHost = Prerequisites.RequireDocker();
        Prerequisites.RequireRoot("dbuild runs RUN steps through runc; the producers need root (umoci, podman, chown)");
        foreach ((string tool, string package) in new[] { ("docker-registry", "docker-registry"), ("skopeo", "skopeo"), ("podman", "podman"),
                     ("umoci", "umoci"), ("python3", "python3"), ("jq", "jq"), ("curl", "curl"), ("zstd", "zstd"), ("busybox", "busybox-static") })
        {
            Prerequisites.RequireTool(tool, package);
        }
        Prerequisites.Require(File.Exists(Arm64Busybox), $"no arm64 busybox at {Arm64Busybox}; run 'bash testdata/ci/setup.sh' (it unpacks busybox-static:arm64)");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_registry is not null) { return; }
            // Cached: returns at once when setup.sh made the bases with these scripts already.
            string script = Path.Combine(RepositoryPaths.TestData, "images", "make-foreign-bases.sh");
            (await ProcessRunner.RunAsync("bash", [script, MadeDirectory, Arm64Busybox], cancellationToken,
                new Dictionary<string, string?> { ["DBUILD_TEST_DOCKER_HOST"] = dockerHost }, timeout: TimeSpan.FromMinutes(10))).EnsureSuccess();
            _registry = await DistributionRegistry.StartAsync(cancellationToken, storageSeed: Path.Combine(MadeDirectory, "registry"));
            (DockerHost, RegistryHost) = (dockerHost, _registry.Host);
        }
        finally { _gate.Release(); }
    }

    /// <summary><c>/usr/bin/docker</c> against the private dockerd, BuildKit on.</summary>
    public Task<ProcessResult> DockerAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync(Docker, arguments, cancellationToken,
            new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerHost, ["DOCKER_BUILDKIT"] = "1" }, timeout: TimeSpan.FromMinutes(5));

    /// <summary>dbuild with this class's state root.</summary>
    public Task<ProcessResult> DbuildAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        DbuildCli.RunAsync(["--root", DbuildRoot, .. arguments], cancellationToken, timeout: TimeSpan.FromMinutes(5));

    public async ValueTask DisposeAsync()
    {
        if (_registry is not null) { await _registry.DisposeAsync(); }
        _root.Dispose();
        _gate.Dispose();
    }
}
