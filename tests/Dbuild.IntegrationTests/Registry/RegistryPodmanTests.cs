using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Registry;

[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryPodmanTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PodmanPullAndPush_AgainstDbuild()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        Prerequisites.RequireRoot("podman with its own storage root under a temp folder");
        using var work = new TempDirectory();
        string state = work.Combine("podman");
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct);
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", $"oci:{busybox}:latest", $"docker://{registry.Host}/busybox:1");
        try
        {
            (await Tools.PodmanAsync(state, Ct, "pull", "--tls-verify=false", $"{registry.Host}/busybox:1")).EnsureSuccess();
            (await Tools.PodmanAsync(state, Ct, "push", "--tls-verify=false", $"{registry.Host}/busybox:1", $"docker://{registry.Host}/podman/busybox:2")).EnsureSuccess();
            using var client = new HttpClient();
            string tags = await client.GetStringAsync($"{registry.BaseUrl}/v2/podman/busybox/tags/list", Ct);
            Assert.Equal("{\"name\":\"podman/busybox\",\"tags\":[\"2\"]}", tags);
            (await Tools.PodmanAsync(state, Ct, "rmi", "-a", "-f")).EnsureSuccess();
            (await Tools.PodmanAsync(state, Ct, "pull", "--tls-verify=false", $"{registry.Host}/podman/busybox:2")).EnsureSuccess();
        }
        finally
        {
            await Tools.PodmanAsync(state, CancellationToken.None, "rmi", "-a", "-f");
            // vfs layers may carry read-only bits; make them deletable for TempDirectory.
            await ProcessRunner.RunAsync("chmod", ["-R", "u+rwX", state], CancellationToken.None);
        }
    }
}
