using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Differential;

/// <summary>
/// What a suite that builds with BuildKit (the oracle) and with dbuild shares, set up once per test class: the private
/// dockerd, a registry:2 on 127.0.0.1 holding the base images both builders pull (filled by <see cref="StartRegistryAsync"/>),
/// and one dbuild state root.
/// </summary>
public abstract class OracleEnvironment(string rootPrefix) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TempDirectory _root = new(rootPrefix);
    private DistributionRegistry? _registry;

    public string DockerHost { get; private set; } = "";

    /// <summary><c>127.0.0.1:PORT</c> of the registry holding the bases.</summary>
    public string RegistryHost { get; private set; } = "";

    public string DbuildRoot => _root.Path;

    public static string Docker => "/usr/bin/docker";

    public async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        string dockerHost = Prerequisites.RequireDocker();
        Prerequisites.RequireTool("docker-registry", "docker-registry");
        RequirePrerequisites();
        Prerequisites.RequireRoot("dbuild runs RUN steps through runc on overlay mounts");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_registry is not null) { return; }
            DistributionRegistry registry = await StartRegistryAsync(dockerHost, cancellationToken);
            (DockerHost, RegistryHost, _registry) = (dockerHost, registry.Host, registry);
        }
        finally { _gate.Release(); }
    }

    /// <summary>Skips (fails under CI) when a part the bases need is missing.</summary>
    protected abstract void RequirePrerequisites();

    /// <summary>Starts the registry and fills it with the bases (once per class).</summary>
    private protected abstract Task<DistributionRegistry> StartRegistryAsync(string dockerHost, CancellationToken cancellationToken);

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
        GC.SuppressFinalize(this);
    }
}
