using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Runtime;

/// <summary>
/// Rootless: runs this assembly's runtime tests (<see cref="StepExecutorTests"/>, <see cref="StepMountTests"/>) again as
/// the unprivileged user the test setup creates, as root of a user namespace whose other ids come from /etc/subuid
/// through newuidmap (<c>unshare --map-root-user --map-users=auto</c>) — the way dbuild runs rootless. Inside, overlay
/// is mounted with <c>userxattr</c> and runc runs with <c>--rootless=true</c>.
/// </summary>
public sealed class RootlessTests
{
    private const string User = "dbuildtest";

    [Fact]
    public async Task RuntimeTests_AsUnprivilegedUserInUserNamespace_Pass()
    {
        Prerequisites.RequireRoot("switches to the unprivileged test user with runuser");
        Prerequisites.RequireTool("runc", "runc");
        string runuser = Prerequisites.RequireTool("runuser", "util-linux");
        string unshare = Prerequisites.RequireTool("unshare", "util-linux");
        Prerequisites.RequireTool("newuidmap", "uidmap");
        Prerequisites.RequireBusyboxLayout();
        Prerequisites.Require(File.ReadAllLines("/etc/subuid").Any(l => l.StartsWith(User + ":", StringComparison.Ordinal)),
            $"no /etc/subuid range for '{User}'; run 'bash testdata/ci/setup.sh'");

        string assembly = typeof(RootlessTests).Assembly.Location;
        ProcessResult run = await ProcessRunner.RunAsync(runuser,
            ["-u", User, "--", "env", "HOME=/tmp", "DOTNET_CLI_TELEMETRY_OPTOUT=1",
             unshare, "--map-root-user", "--map-users=auto", "--map-groups=auto", "--mount", "--propagation", "private", "--",
             "dotnet", "exec", assembly,
             "-class", typeof(StepExecutorTests).FullName!, "-class", typeof(StepMountTests).FullName!,
             "-class", typeof(StepSecurityTests).FullName!, "-noColor"],
            TestContext.Current.CancellationToken, timeout: TimeSpan.FromMinutes(10));
        string tail = string.Join('\n', (run.StandardOutput + run.StandardError).Split('\n').TakeLast(60));
        Assert.True(run.ExitCode == 0, $"rootless runtime tests failed (exit {run.ExitCode}):\n{tail}");
        Assert.Contains("Failed: 0, Skipped: 0", run.StandardOutput, StringComparison.Ordinal); // all ran, none skipped
    }
}
