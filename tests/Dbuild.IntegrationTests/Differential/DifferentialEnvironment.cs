using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Differential;

/// <summary>
/// Set up once per test run: a registry:2 on 127.0.0.1 holding the offline busybox image as
/// <c>127.0.0.1:PORT/busybox:latest</c>, the base both builders pull (every case's Dockerfile says
/// <c>ARG BASE</c> + <c>FROM $BASE</c>), and one dbuild state root shared by the cases.
/// </summary>
public sealed class DifferentialEnvironment : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TempDirectory _root = new("dbuild-diff-root-");
    private DistributionRegistry? _registry;

    public string DockerHost { get; private set; } = "";

    /// <summary>The base image reference passed as <c>--build-arg BASE=</c> to both builders.</summary>
    public string BaseImage { get; private set; } = "";

    public string DbuildRoot => _root.Path;

    public static string Docker => "/usr/bin/docker";

    public async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        string dockerHost = Prerequisites.RequireDocker();
        string layout = Prerequisites.RequireBusyboxLayout();
        string skopeo = Prerequisites.RequireTool("skopeo", "skopeo");
        Prerequisites.RequireTool("docker-registry", "docker-registry");
        Prerequisites.RequireRoot("dbuild runs RUN steps through runc on overlay mounts");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_registry is not null) { return; }
            DistributionRegistry registry = await DistributionRegistry.StartAsync(cancellationToken);
            (await ProcessRunner.RunAsync(skopeo, ["copy", "--dest-tls-verify=false", $"oci:{layout}:latest", $"docker://{registry.Host}/busybox:latest"],
                cancellationToken, timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
            (DockerHost, BaseImage, _registry) = (dockerHost, $"{registry.Host}/busybox:latest", registry);
        }
        finally { _gate.Release(); }
    }

    public Task<ProcessResult> DockerAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync(Docker, arguments, cancellationToken,
            new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerHost, ["DOCKER_BUILDKIT"] = "1" }, timeout: TimeSpan.FromMinutes(5));

    public Task<ProcessResult> DbuildAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        DbuildCli.RunAsync(["--root", DbuildRoot, .. arguments], cancellationToken, timeout: TimeSpan.FromMinutes(5));

    public async ValueTask DisposeAsync()
    {
        if (_registry is not null) { await _registry.DisposeAsync(); }
        _root.Dispose();
        _gate.Dispose();
    }
}
