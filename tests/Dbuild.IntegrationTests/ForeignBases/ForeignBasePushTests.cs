using Dbuild.IntegrationTests.Registry;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.ForeignBases;

/// <summary>
/// dbuild's build on a foreign base (the <see cref="ForeignBaseCases.Run"/> Dockerfile: the base's layers as their
/// producer wrote them, plus dbuild's RUN layer), pushed to registry:2 and read back by every client: <c>skopeo inspect</c>
/// and <c>skopeo copy</c> to an OCI layout, <c>docker pull</c> + <c>docker run</c>, <c>podman pull</c> + <c>podman run</c>.
/// The bases are the ones whose layers a client is most likely to choke on when dbuild passes them through: no tar end
/// blocks, zstd, uncompressed Docker layers, a truncated tar, and two multi-arch indexes.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ForeignBasePushTests(ForeignBaseEnvironment environment) : IClassFixture<ForeignBaseEnvironment>
{
    private const string Check = "cat /srv/work/new.txt /srv/work/sub/added.txt; test -e /srv/work/victim.txt || echo gone";
    private const string CheckOutput = "new\nadded\ngone\n";

    public static TheoryData<string> Bases => new("umoci-insert", "skopeo-oci-zstd", "skopeo-v2s2-tar", "hand-truncated", "podman-multiarch", "hand-multiarch-attest");

    [Theory]
    [MemberData(nameof(Bases))]
    public async Task PushedBuild_OnForeignBase_DockerPodmanSkopeoReadIt(string baseName)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await environment.EnsureStartedAsync(ct);
        using var temp = new TempDirectory("dbuild-foreign-push-");
        string reference = environment.Reference(baseName);
        string context = await ForeignBaseCases.WriteContextAsync(temp.Combine("context"), ForeignBaseCases.Run, reference, ct);
        string image = $"{environment.RegistryHost}/pushed/{baseName}:1";

        ProcessResult build = await environment.DbuildAsync(["build", "--progress", "plain", "--build-arg", "BASE=" + reference, "-t", image, "--push", context], ct);
        Assert.True(build.ExitCode == 0, $"{baseName}: dbuild build --push failed (exit {build.ExitCode}):\n{build.StandardError}{build.StandardOutput}");

        List<string> failures = [];
        await ExpectAsync(failures, "skopeo inspect", ProcessRunner.RunAsync(Prerequisites.RequireTool("skopeo", "skopeo"),
            ["inspect", "--tls-verify=false", "docker://" + image], ct));
        await ExpectAsync(failures, "skopeo copy to an OCI layout", ProcessRunner.RunAsync(Prerequisites.RequireTool("skopeo", "skopeo"),
            ["--insecure-policy", "copy", "--src-tls-verify=false", "docker://" + image, $"oci:{temp.Combine("oci")}:pushed"], ct, timeout: TimeSpan.FromMinutes(2)));

        if (await ExpectAsync(failures, "docker pull", environment.DockerAsync(["pull", image], ct)))
        {
            await ExpectAsync(failures, "docker run", environment.DockerAsync(["run", "--rm", "--network", "none", image, "sh", "-c", Check], ct), CheckOutput);
            await environment.DockerAsync(["rmi", image], ct);
        }

        string podman = temp.Combine("podman");
        try
        {
            if (await ExpectAsync(failures, "podman pull", Tools.PodmanAsync(podman, ct, "pull", "--tls-verify=false", image)))
            {
                await ExpectAsync(failures, "podman run", Tools.PodmanAsync(podman, ct, "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=20000:20000",
                    "--ulimit", "nproc=32768:32768", "--network", "none", image, "sh", "-c", Check), CheckOutput);
            }
        }
        finally
        {
            await Tools.PodmanAsync(podman, CancellationToken.None, "rmi", "-a", "-f");
            // vfs layers may carry read-only bits; make them deletable for TempDirectory.
            await ProcessRunner.RunAsync("chmod", ["-R", "u+rwX", podman], CancellationToken.None);
        }

        Assert.True(failures.Count == 0, $"{baseName}: dbuild's pushed image {image} was refused by {failures.Count} clients:\n" + string.Join("\n\n", failures));
    }

    /// <summary>Records a failed step (or one whose output is not <paramref name="output"/>); returns whether it passed.</summary>
    private static async Task<bool> ExpectAsync(List<string> failures, string step, Task<ProcessResult> running, string? output = null)
    {
        ProcessResult result = await running;
        if (result.ExitCode != 0) { failures.Add($"{step} exited {result.ExitCode}: {result.StandardError.Trim()}"); return false; }
        if (output is not null && result.StandardOutput != output) { failures.Add($"{step} printed '{result.StandardOutput}', expected '{output}'"); return false; }
        return true;
    }
}
