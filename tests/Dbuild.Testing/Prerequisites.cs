namespace Dbuild.Testing;

/// <summary>
/// Checks for the real parts end-to-end tests need. Outside CI a missing part skips the test with a reason;
/// with <c>CI=true</c> it fails it, because the README's test command installs everything.
/// </summary>
public static class Prerequisites
{
    /// <summary>True when running under CI (<c>CI=true</c>): missing prerequisites are failures.</summary>
    public static bool IsCi { get; } = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Scratch and service state shared with testdata/ci/setup.sh.</summary>
    public static string StateDirectory => Environment.GetEnvironmentVariable("DBUILD_TEST_STATE") ?? "/var/tmp/dbuild-test";

    /// <summary>The private dockerd's socket as a DOCKER_HOST value.</summary>
    public static string DockerHost => Environment.GetEnvironmentVariable("DBUILD_TEST_DOCKER_HOST") ?? $"unix://{StateDirectory}/docker.sock";

    /// <summary>The offline busybox base image as an OCI layout (tag <c>latest</c>).</summary>
    public static string BusyboxOciLayout => Environment.GetEnvironmentVariable("DBUILD_TEST_BUSYBOX_OCI") ?? Path.Combine(StateDirectory, "busybox-oci");

    /// <summary>True when running as root.</summary>
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Finds an executable on PATH (or an absolute path that exists).</summary>
    public static string? FindTool(string name)
    {
        if (Path.IsPathRooted(name)) { return File.Exists(name) ? name : null; }
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                     .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) { return candidate; }
        }
        return null;
    }

    /// <summary>Returns the tool's path, or skips (fails under CI) naming what to install.</summary>
    public static string RequireTool(string name, string package)
    {
        string? path = FindTool(name);
        Require(path is not null, $"'{name}' not found; install Debian's '{package}' (bash testdata/ci/setup.sh does)");
        return path!;
    }

    /// <summary>Skips (fails under CI) unless running as root.</summary>
    public static void RequireRoot(string why) => Require(IsRoot, $"needs root: {why}");

    /// <summary>Skips (fails under CI) unless the private dockerd answers; returns its DOCKER_HOST.</summary>
    public static string RequireDocker()
    {
        string socket = DockerHost.StartsWith("unix://", StringComparison.Ordinal) ? DockerHost["unix://".Length..] : DockerHost;
        Require(File.Exists(socket) || Directory.Exists(Path.GetDirectoryName(socket) ?? "/nonexistent") && new FileInfo(socket).Exists,
            $"no dockerd at {DockerHost}; run 'bash testdata/ci/setup.sh' to start one");
        RequireTool("docker", "docker.io");
        return DockerHost;
    }

    /// <summary>Skips (fails under CI) unless the offline busybox layout exists; returns its path.</summary>
    public static string RequireBusyboxLayout()
    {
        Require(File.Exists(Path.Combine(BusyboxOciLayout, "index.json")),
            $"no busybox OCI layout at {BusyboxOciLayout}; run 'bash testdata/ci/setup.sh' (it runs testdata/images/make-busybox-layout.sh)");
        return BusyboxOciLayout;
    }

    /// <summary>
    /// Returns the full path of <paramref name="relativePath"/> under ../shared (<see cref="RepositoryPaths.Shared"/>),
    /// or skips (fails under CI) naming the missing path and <paramref name="what"/> it should hold.
    /// </summary>
    public static string RequireShared(string relativePath, string what) => RequireShared(RepositoryPaths.Shared, relativePath, what, IsCi);

    /// <summary><see cref="RequireShared(string, string)"/> with the shared folder and the CI flag given.</summary>
    public static string RequireShared(string sharedRoot, string relativePath, string what, bool ci)
    {
        string path = Path.GetFullPath(Path.Combine(sharedRoot, relativePath));
        Require(Path.Exists(path),
            $"{path} is missing ({what}); ../shared is not part of the repository: put it beside the checkout or set DBUILD_SHARED", ci);
        return path;
    }

    /// <summary>Skips with the reason, or under CI fails with it.</summary>
    public static void Require(bool condition, string reason) => Require(condition, reason, IsCi);

    /// <summary>Skips with the reason, or when <paramref name="ci"/> fails with it.</summary>
    public static void Require(bool condition, string reason, bool ci)
    {
        if (condition) { return; }
        if (ci) { Assert.Fail($"Prerequisite missing under CI=true: {reason}"); }
        Assert.Skip(reason);
    }
}
