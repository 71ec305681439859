using Dbuild.IntegrationTests.Differential;
using Dbuild.IntegrationTests.RegistryClient;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.ForeignBases;

/// <summary>
/// One per test class: the foreign bases testdata/images/make-foreign-bases.sh made (cached under the test state folder;
/// made here when setup.sh has not yet), served by a registry:2 on 127.0.0.1 from a copy of their storage root, so each
/// base is <c>127.0.0.1:PORT/NAME:latest</c> byte for byte as its producer pushed it; and one dbuild state root.
/// </summary>
public sealed class ForeignBaseEnvironment() : OracleEnvironment("dbuild-foreign-root-")
{
    /// <summary>Where make-foreign-bases.sh keeps its results, one folder per version of its scripts (DBUILD_TEST_FOREIGN_BASES, as testdata/ci/env.sh says).</summary>
    public static string MadeDirectory => Environment.GetEnvironmentVariable("DBUILD_TEST_FOREIGN_BASES") is { Length: > 0 } dir
        ? dir : Path.Combine(Prerequisites.StateDirectory, "foreign-bases");

    /// <summary>Debian's busybox-static:arm64 binary, unpacked by testdata/ci/setup.sh (the multi-arch bases' arm64 half).</summary>
    public static string Arm64Busybox => Path.Combine(Prerequisites.StateDirectory, "debs", "busybox-arm64", "bin", "busybox");

    /// <summary>The base as a reference both builders pull.</summary>
    public string Reference(string baseName) => $"{RegistryHost}/{baseName}:latest";

    protected override void RequirePrerequisites()
    {
        // What the producers need (umoci, podman, python3's tarfile, skopeo...), in case the bases have to be made here.
        foreach ((string tool, string package) in new[] { ("skopeo", "skopeo"), ("podman", "podman"), ("umoci", "umoci"), ("python3", "python3"),
                     ("jq", "jq"), ("curl", "curl"), ("zstd", "zstd"), ("busybox", "busybox-static") })
        {
            Prerequisites.RequireTool(tool, package);
        }
        Prerequisites.Require(File.Exists(Arm64Busybox), $"no arm64 busybox at {Arm64Busybox}; run 'bash testdata/ci/setup.sh' (it unpacks busybox-static:arm64)");
    }

    private protected override async Task<DistributionRegistry> StartRegistryAsync(string dockerHost, CancellationToken cancellationToken)
    {
        // Cached: returns at once when setup.sh made the bases with these scripts already; prints the folder they are in.
        string script = Path.Combine(RepositoryPaths.TestData, "images", "make-foreign-bases.sh");
        ProcessResult made = (await ProcessRunner.RunAsync("bash", [script, MadeDirectory, Arm64Busybox], cancellationToken,
            new Dictionary<string, string?> { ["DBUILD_TEST_DOCKER_HOST"] = dockerHost }, timeout: TimeSpan.FromMinutes(10))).EnsureSuccess();
        return await DistributionRegistry.StartAsync(cancellationToken, storageSeed: Path.Combine(made.StandardOutput.Trim(), "registry"));
    }
}
