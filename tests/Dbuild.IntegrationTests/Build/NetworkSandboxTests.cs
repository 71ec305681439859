using Dbuild.IntegrationTests.Runtime;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// RUN's network end to end through <c>dbuild build</c>: by default a namespace of its own with slirp4netns that reaches
/// a test host (<see cref="NetnsHttpHost"/>) but not the host's 127.0.0.1; <c>--network=none</c> only loopback;
/// <c>--network=host</c> (RUN flag or build flag) only with <c>--allow network.host</c>; <c>--add-host</c> in /etc/hosts
/// and in the cache key; /etc/hosts and resolv.conf as BuildKit writes them and never in the image.
/// </summary>
public sealed class NetworkSandboxTests
{
    private static async Task<string> ContextAsync(TempDirectory temp, string dockerfile, CancellationToken ct)
    {
        string context = temp.Combine("ctx");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), dockerfile, ct);
        return context;
    }

    private static Task<ProcessResult> BuildAsync(BuildEnvironment env, TempDirectory temp, string context, string output, CancellationToken ct, params string[] extra) =>
        BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", "--build-arg", "BASE=" + env.BaseImage,
            "-o", "type=local,dest=" + output, .. extra, context], ct);

    private static string Read(string outDir, string path) => File.ReadAllText(Path.Combine(outDir, path)).Trim();

    [Fact]
    public async Task DefaultNetwork_ReachesTestHost_NotHostLoopback_NoneIsLoopbackOnly_AddHostInHostsAndKey()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Prerequisites.RequireTool("slirp4netns", "slirp4netns");
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-netsandbox-");
        Directory.CreateDirectory(temp.Combine("www"));
        await File.WriteAllTextAsync(temp.Combine("www", "hello.txt"), "from the test host", ct);
        await using NetnsHttpHost testHost = await NetnsHttpHost.StartAsync(temp.Combine("www"), "hello.txt", ct);
        await using StaticHttpServer loopback = await StaticHttpServer.StartAsync(temp.Combine("www"), "hello.txt", ct);
        string context = await ContextAsync(temp, """
            ARG BASE
            FROM ${BASE}
            ARG URL
            ARG LOOPBACK_PORT
            RUN timeout 20 wget -q -O /from-test-host "$URL"
            RUN for a in 127.0.0.1 10.0.2.2; do if nc -w 3 "$a" "$LOOPBACK_PORT" </dev/null 2>/dev/null; then echo "$a reached"; else echo "$a unreachable"; fi; done > /loopback
            RUN --network=none ls /sys/class/net > /none-sys && tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /none-dev
            RUN ls /sys/class/net > /default-sys
            RUN cat /etc/hosts > /hosts-seen && cat /etc/resolv.conf > /resolv-seen && hostname > /hostname-seen
            """, ct);
        string[] args = ["--build-arg", "URL=" + testHost.Url("hello.txt"), "--build-arg", "LOOPBACK_PORT=" + loopback.Port];

        string out1 = temp.Combine("out1");
        (await BuildAsync(env, temp, context, out1, ct, [.. args, "--add-host", "db.internal:10.1.2.3", "--add-host", "v6.internal:2001:db8::1"])).EnsureSuccess();
        Assert.Equal("from the test host", Read(out1, "from-test-host"));
        Assert.Equal("127.0.0.1 unreachable\n10.0.2.2 unreachable", Read(out1, "loopback"));
        Assert.Equal("lo", Read(out1, "none-sys"));
        Assert.Equal("lo", Read(out1, "none-dev"));
        Assert.Equal(["lo", "tap0"], Read(out1, "default-sys").Split('\n'));
        Assert.Equal("127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tdb.internal\n2001:db8::1\tv6.internal",
            Read(out1, "hosts-seen"));
        Assert.Equal("buildkitsandbox", Read(out1, "hostname-seen"));
        Assert.DoesNotMatch(@"(?m)^\s*nameserver\s+(127\.|::1)", Read(out1, "resolv-seen"));
        Assert.Contains("nameserver", Read(out1, "resolv-seen"), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(out1, "etc", "hosts")), "the /etc/hosts mount stub is not in the image");
        Assert.False(File.Exists(Path.Combine(out1, "etc", "resolv.conf")), "the resolv.conf mount stub is not in the image");

        // --add-host is part of the RUN steps' key: a different entry runs them again (the same one would be cached).
        string out2 = temp.Combine("out2");
        ProcessResult second = (await BuildAsync(env, temp, context, out2, ct, [.. args, "--add-host", "db.internal:10.9.9.9"])).EnsureSuccess();
        Assert.EndsWith("10.9.9.9\tdb.internal", Read(out2, "hosts-seen"), StringComparison.Ordinal);
        Assert.DoesNotContain("CACHED", second.StandardError, StringComparison.Ordinal);
        ProcessResult third = (await BuildAsync(env, temp, context, temp.Combine("out3"), ct, [.. args, "--add-host", "db.internal:10.9.9.9"])).EnsureSuccess();
        Assert.Contains("CACHED", third.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostNetwork_RefusedWithoutAllow_ReachesHostLoopbackWithIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-nethost-");
        Directory.CreateDirectory(temp.Combine("www"));
        await File.WriteAllTextAsync(temp.Combine("www", "hello.txt"), "from the host's loopback", ct);
        await using StaticHttpServer loopback = await StaticHttpServer.StartAsync(temp.Combine("www"), "hello.txt", ct);
        string context = await ContextAsync(temp, """
            ARG BASE
            FROM ${BASE}
            ARG URL
            RUN --network=host wget -q -O /by-run-flag "$URL"
            RUN wget -q -O /by-build-flag "$URL" || echo failed > /by-build-flag
            """, ct);
        string[] url = ["--build-arg", "URL=" + loopback.Url("hello.txt")];

        ProcessResult refused = await BuildAsync(env, temp, context, temp.Combine("refused"), ct, url);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Dockerfile:4", refused.StandardError, StringComparison.Ordinal);
        Assert.Contains("network.host is not allowed", refused.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("refused")), "nothing ran");

        string allowed = temp.Combine("allowed");
        (await BuildAsync(env, temp, context, allowed, ct, [.. url, "--allow", "network.host"])).EnsureSuccess();
        Assert.Equal("from the host's loopback", Read(allowed, "by-run-flag"));
        Assert.Equal("failed", Read(allowed, "by-build-flag")); // the default network does not reach it

        // The build flag grants the entitlement itself, as buildx's and docker's --network host do.
        string hostDefault = temp.Combine("host-default");
        (await BuildAsync(env, temp, context, hostDefault, ct, [.. url, "--network", "host"])).EnsureSuccess();
        Assert.Equal("from the host's loopback", Read(hostDefault, "by-run-flag"));
        Assert.Equal("from the host's loopback", Read(hostDefault, "by-build-flag"));
    }

    [Theory]
    [InlineData("--add-host", "nocolon", "invalid argument \"nocolon\" for \"--add-host\" flag: bad format for add-host: \"nocolon\"")]
    [InlineData("--add-host", "h:1.2.3", "invalid argument \"h:1.2.3\" for \"--add-host\" flag: invalid IP address in add-host: \"1.2.3\"")]
    [InlineData("--network", "bridge", "invalid argument \"bridge\" for \"--network\" flag: network mode \"bridge\" not supported (default, none or host)")]
    public async Task BadNetworkFlag_OneLineErrorNamingIt_BeforeAnythingRuns(string flag, string value, string expected)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-netflag-");
        string context = await ContextAsync(temp, "FROM scratch\nRUN [\"/bin/true\"]\n", ct);
        ProcessResult result = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "plain", flag, value, context], ct);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("error: " + expected, result.StandardError.Trim());
    }

    /// <summary>
    /// Rootless: <see cref="StepNetworkTests"/> again as the unprivileged test user, as root of a user namespace mapped
    /// from /etc/subuid (as <see cref="RootlessTests"/> runs the runtime tests), against a test host made here as root.
    /// </summary>
    [Fact]
    public async Task RuntimeNetworkTests_AsUnprivilegedUser_Pass()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Prerequisites.RequireRoot("switches to the unprivileged test user with runuser");
        string runuser = Prerequisites.RequireTool("runuser", "util-linux");
        string unshare = Prerequisites.RequireTool("unshare", "util-linux");
        Prerequisites.RequireTool("slirp4netns", "slirp4netns");
        using var temp = new TempDirectory("dbuild-netrootless-");
        await File.WriteAllTextAsync(temp.Combine("hello.txt"), "from the test host", ct);
        await using NetnsHttpHost testHost = await NetnsHttpHost.StartAsync(temp.Path, "hello.txt", ct);
        ProcessResult run = await ProcessRunner.RunAsync(runuser,
            ["-u", "dbuildtest", "--", "env", "HOME=/tmp", "DOTNET_CLI_TELEMETRY_OPTOUT=1", $"{StepNetworkTests.TestHostUrlVariable}={testHost.Url("hello.txt")}",
             unshare, "--map-root-user", "--map-users=auto", "--map-groups=auto", "--mount", "--propagation", "private", "--",
             "dotnet", "exec", typeof(StepNetworkTests).Assembly.Location, "-class", typeof(StepNetworkTests).FullName!, "-noColor"],
            ct, timeout: TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, $"rootless network tests failed (exit {run.ExitCode}):\n{string.Join('\n', (run.StandardOutput + run.StandardError).Split('\n').TakeLast(40))}");
        Assert.Contains("Failed: 0, Skipped: 0", run.StandardOutput, StringComparison.Ordinal);
    }
}
