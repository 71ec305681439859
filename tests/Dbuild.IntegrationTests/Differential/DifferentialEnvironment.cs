using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Differential;

/// <summary>
/// Set up once per test run: a registry:2 on 127.0.0.1 holding the offline busybox image as
/// <c>127.0.0.1:PORT/busybox:latest</c>, the base both builders pull (every case's Dockerfile says
/// <c>ARG BASE</c> + <c>FROM $BASE</c>), and one dbuild state root shared by the cases.
/// </summary>
public sealed class DifferentialEnvironment() : OracleEnvironment("dbuild-diff-root-")
{
    /// <summary>The base image reference passed as <c>--build-arg BASE=</c> to both builders.</summary>
    public string BaseImage => $"{RegistryHost}/busybox:latest";

    protected override void RequirePrerequisites()
    {
        Prerequisites.RequireBusyboxLayout();
        Prerequisites.RequireTool("skopeo", "skopeo");
    }

    private protected override async Task<DistributionRegistry> StartRegistryAsync(string dockerHost, CancellationToken cancellationToken)
    {
        DistributionRegistry registry = await DistributionRegistry.StartAsync(cancellationToken);
        (await ProcessRunner.RunAsync(Prerequisites.RequireTool("skopeo", "skopeo"),
            ["copy", "--dest-tls-verify=false", $"oci:{Prerequisites.BusyboxOciLayout}:latest", $"docker://{registry.Host}/busybox:latest"],
            cancellationToken, timeout: TimeSpan.FromMinutes(2))).EnsureSuccess();
        return registry;
    }
}
