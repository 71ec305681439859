using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// <c>dbuild build</c> FROM the debootstrap Debian base: every RUN under Docker's default seccomp profile (a filter in
/// /proc/self/status, keyctl refused with EPERM, Debian's own tools unaffected), and <c>RUN --security=insecure</c>
/// only with <c>--allow security.insecure</c> (no filter, every capability, mounts work), refused without it before
/// anything runs. Each RUN writes what it saw to /out, exported with <c>--output type=local</c>.
/// </summary>
public sealed class SeccompTests(DebianBuildFixture debian) : IClassFixture<DebianBuildFixture>
{
    /// <summary>keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0): not in Docker's profile. 250 is keyctl on x86_64, the base's architecture.</summary>
    private const string Keyctl = """perl -e '$r = syscall(250, 0, -3, 0); print $r < 0 ? "errno=" . ($!+0) : "ok", "\n"'""";

    private const string Probe = "mkdir -p /out && grep '^Seccomp:' /proc/self/status | cut -f2 > /out/seccomp && grep '^CapEff:' /proc/self/status | cut -f2 > /out/capeff && " +
        Keyctl + " > /out/keyctl && mkdir -p /mnt/t && (mount -t tmpfs none /mnt/t 2>/dev/null && echo mounted || echo refused) > /out/mount";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private async Task<(ProcessResult Result, string Output)> BuildAsync(string name, string runLines, params string[] flags)
    {
        string context = Directory.CreateDirectory(debian.Temp.Combine(name, "context")).FullName;
        string output = debian.Temp.Combine(name, "out");
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"),
            $"FROM {debian.Image} AS work\n{runLines}\nFROM scratch\nCOPY --from=work /out /\n", Token);
        ProcessResult result = await DbuildCli.RunAsync(
            ["build", "--root", debian.Root, "--progress", "plain", "--output", $"type=local,dest={output}", .. flags, context], Token, timeout: TimeSpan.FromMinutes(5));
        return (result, output);
    }

    private static string Read(string output, string file) => File.ReadAllText(Path.Combine(output, file)).Trim();

    [Fact]
    public async Task Build_Sandbox_FilterAppliedAndKeyctlFailsWithEperm()
    {
        (ProcessResult result, string output) = await BuildAsync("sandbox", "RUN " + Probe);
        result.EnsureSuccess();
        Assert.Equal("2", Read(output, "seccomp")); // SECCOMP_MODE_FILTER
        Assert.Equal("errno=1", Read(output, "keyctl")); // EPERM, the profile's default action
        Assert.Equal("00000000a80425fb", Read(output, "capeff"));
        Assert.Equal("refused", Read(output, "mount"));
    }

    [Fact]
    public async Task Build_InsecureAllowed_NoFilterEveryCapabilityAndNotTheSandboxCacheEntry()
    {
        (await BuildAsync("insecure-first-sandbox", "RUN " + Probe)).Result.EnsureSuccess(); // the same command, sandboxed, in the cache
        (ProcessResult result, string output) = await BuildAsync("insecure", "RUN --security=insecure " + Probe, "--allow", "security.insecure");
        result.EnsureSuccess();
        Assert.Equal("0", Read(output, "seccomp"));
        Assert.NotEqual("errno=1", Read(output, "keyctl")); // a keyring id, or the kernel's own answer: not the filter's EPERM
        string ours = File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal))[7..].Trim();
        Assert.Equal(ours, Read(output, "capeff")); // every capability dbuild has
        Assert.Equal("mounted", Read(output, "mount"));
    }

    [Fact]
    public async Task Build_InsecureWithoutAllow_RefusedBeforeAnythingRuns()
    {
        (ProcessResult result, string output) = await BuildAsync("refused", "RUN echo ran-first-$((6*7))\nRUN --security=insecure mkdir /out");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("security.insecure is not allowed", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("Dockerfile:3", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("ran-first-42", result.StandardOutput + result.StandardError, StringComparison.Ordinal); // the step before never ran
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task Build_DebianTools_WorkUnderTheFilter()
    {
        const string script = """
            RUN set -e; mkdir -p /out /tmp/pkg/DEBIAN /tmp/pkg/usr/share/hello-seccomp; \
                printf 'Package: hello-seccomp\nVersion: 1.0\nArchitecture: all\nMaintainer: dbuild tests <tests@example.invalid>\nDescription: seccomp test package\n' > /tmp/pkg/DEBIAN/control; \
                echo hi > /tmp/pkg/usr/share/hello-seccomp/hi; \
                dpkg-deb --root-owner-group --build /tmp/pkg /tmp/hello-seccomp_1.0_all.deb; \
                dpkg -i /tmp/hello-seccomp_1.0_all.deb; dpkg-query -W -f '${Status}\n' hello-seccomp > /out/dpkg; dpkg -r hello-seccomp; \
                apt-get install -y /tmp/hello-seccomp_1.0_all.deb; dpkg-query -W -f '${Status}\n' hello-seccomp > /out/apt; \
                apt-cache policy hello-seccomp | sed -n 2p > /out/policy; apt-config dump | grep -c '^APT::Architecture ' > /out/config; \
                useradd -m -s /bin/bash builder; runuser -u builder -- sh -c 'id -un; touch ~/made; stat -c %U ~/made' > /out/user
            """;
        (ProcessResult result, string output) = await BuildAsync("debian-tools", script);
        result.EnsureSuccess();
        Assert.Equal("install ok installed", Read(output, "dpkg"));
        Assert.Equal("install ok installed", Read(output, "apt"));
        Assert.Equal("Installed: 1.0", Read(output, "policy"));
        Assert.Equal("1", Read(output, "config"));
        Assert.Equal("builder\nbuilder", Read(output, "user"));
    }
}
