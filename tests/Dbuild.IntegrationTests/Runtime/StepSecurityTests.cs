using Dbuild.Runtime;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Runtime;

/// <summary>
/// The step's confinement through real runc: Docker's seccomp profile in sandbox mode, BuildKit's insecure mode
/// (<c>RUN --security=insecure</c>). <see cref="RootlessTests"/> runs these again as an unprivileged user in a user
/// namespace, where runc loads the filter too and insecure means the capabilities of that namespace.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StepSecurityTests(RuntimeFixture fixture) : IClassFixture<RuntimeFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<List<string>> RunAsync(string script, StepSecurity security, OciRuntimeKind runtime = OciRuntimeKind.Runc)
    {
        RuntimeFixture.RequireRuntime();
        if (runtime == OciRuntimeKind.Crun) { Prerequisites.RequireTool("crun", "crun"); }
        var output = new List<string>();
        StepRequest request = RuntimeFixture.Shell(RuntimeFixture.BusyboxLayers(), script, output) with { Security = security };
        await fixture.CreateExecutor(runtime).RunAsync(request, Token);
        Assert.Empty(fixture.LeftoverMounts());
        return output;
    }

    private static string Status(IEnumerable<string> lines, string field) =>
        lines.Single(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim();

    [Theory]
    [InlineData(OciRuntimeKind.Runc)]
    [InlineData(OciRuntimeKind.Crun)]
    public async Task Run_Sandbox_SeccompFilterAndDockerCapabilities(OciRuntimeKind runtime)
    {
        List<string> output = await RunAsync("grep -E '^(Seccomp|CapEff|CapBnd):' /proc/self/status", StepSecurity.Sandbox, runtime);
        Assert.Equal("2", Status(output, "Seccomp")); // SECCOMP_MODE_FILTER
        Assert.Equal("00000000a80425fb", Status(output, "CapBnd")); // Docker's 14 capabilities
    }

    [Fact]
    public async Task Run_Sandbox_MountRefused()
    {
        List<string> output = await RunAsync("mkdir -p /mnt/t && if mount -t tmpfs none /mnt/t 2>&1; then echo mounted; else echo refused; fi", StepSecurity.Sandbox);
        Assert.Equal("refused", output[^1]);
    }

    [Fact]
    public async Task Run_Insecure_NoFilterEveryCapabilityAndMountWorks()
    {
        List<string> output = await RunAsync(
            "grep -E '^(Seccomp|CapEff):' /proc/self/status && mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && grep -c '^none /mnt/t tmpfs ' /proc/mounts",
            StepSecurity.Insecure);
        Assert.Equal("0", Status(output, "Seccomp"));
        string ours = Status(File.ReadAllLines("/proc/self/status"), "CapEff"); // root's, or those of our user namespace when rootless
        Assert.Equal(ours, Status(output, "CapEff"));
        Assert.Contains("CAP_SYS_ADMIN", HostSecurity.FromMask(ulong.Parse(ours, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("1", output[^1]);
    }
}
