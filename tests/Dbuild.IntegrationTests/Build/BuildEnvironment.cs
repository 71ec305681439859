using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// What build tests share: the private dockerd (BuildKit, the oracle), and a registry:2 on 127.0.0.1 holding the
/// offline busybox image as <c>127.0.0.1:PORT/busybox:latest</c>, the base image of every test context. Started once
/// per test process; the registry is stopped when the process exits.
/// </summary>
internal sealed class BuildEnvironment
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static BuildEnvironment? _instance;
    private static DistributionRegistry? _registry;

    private BuildEnvironment(string dockerHost, string registryHost) => (DockerHost, RegistryHost) = (dockerHost, registryHost);

    public string DockerHost { get; }
    public string RegistryHost { get; }
    public string BaseImage => $"{RegistryHost}/busybox:latest";
    public static string Docker => "/usr/bin/docker";

    public IReadOnlyDictionary<string, string?> DockerEnvironment => new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerHost, ["DOCKER_BUILDKIT"] = "1" };

    public static async Task<BuildEnvironment> GetAsync(CancellationToken cancellationToken)
    {
        string dockerHost = Prerequisites.RequireDocker();
        string layout = Prerequisites.RequireBusyboxLayout();
        string skopeo = Prerequisites.RequireTool("skopeo", "skopeo");
        await Gate.WaitAsync(cancellationToken);
        try
        {
            if (_instance is not null) { return _instance; }
            _registry = await DistributionRegistry.StartAsync(cancellationToken);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => _registry.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            (await ProcessRunner.RunAsync(skopeo, ["copy", "--dest-tls-verify=false", $"oci:{layout}:latest", $"docker://{_registry.Host}/busybox:latest"],
                cancellationToken)).EnsureSuccess();
            _instance = new BuildEnvironment(dockerHost, _registry.Host);
            return _instance;
        }
        finally { Gate.Release(); }
    }

    /// <summary>Runs <c>dotnet dbuild.dll ARGS</c>.</summary>
    public static Task<ProcessResult> DbuildAsync(IEnumerable<string> arguments, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null, string? standardInput = null) =>
        DbuildCli.RunAsync(arguments, cancellationToken, environment, standardInput: standardInput, timeout: TimeSpan.FromMinutes(5));

    /// <summary>Runs <c>dotnet dbuild.dll ARGS &lt; FILE</c>: binary standard input (a tar) from a file.</summary>
    public static Task<ProcessResult> DbuildWithStdinAsync(string stdinFile, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        RunWithStdinAsync(stdinFile, ["dotnet", DbuildCli.DllPath, .. arguments], null, cancellationToken);

    /// <summary>Runs <c>docker ARGS &lt; FILE</c> against the private dockerd.</summary>
    public Task<ProcessResult> DockerWithStdinAsync(string stdinFile, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        RunWithStdinAsync(stdinFile, [Docker, .. arguments], DockerEnvironment, cancellationToken);

    private static Task<ProcessResult> RunWithStdinAsync(string stdinFile, IEnumerable<string> command, IReadOnlyDictionary<string, string?>? environment,
        CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync("sh", ["-c", "f=$1; shift; exec \"$@\" < \"$f\"", "sh", stdinFile, .. command], cancellationToken, environment,
            timeout: TimeSpan.FromMinutes(5));

    public Task<ProcessResult> DockerAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync(Docker, arguments, cancellationToken, DockerEnvironment, timeout: TimeSpan.FromMinutes(5));

    public static string Context(string name) => Path.Combine(RepositoryPaths.TestData, "build", name);
}
