using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>Compares an image docker (BuildKit) built and tagged with the one dbuild wrote as a docker archive, then removes docker's.</summary>
internal static class ContextOracle
{
    public static async Task AssertSameImageAsync(BuildEnvironment env, TempDirectory temp, string dockerTag, string dbuildTar, string what, CancellationToken ct)
    {
        string id = Guid.NewGuid().ToString("N");
        string buildkitTar = temp.Combine($"buildkit-{id}.tar");
        try
        {
            (await env.DockerAsync(["save", "-o", buildkitTar, dockerTag], ct)).EnsureSuccess();
        }
        finally
        {
            await env.DockerAsync(["rmi", dockerTag], CancellationToken.None);
        }
        ImageSummary expected = await ImageSummary.LoadAsync(buildkitTar, temp.Combine($"bk-{id}"), ct);
        ImageSummary actual = await ImageSummary.LoadAsync(dbuildTar, temp.Combine($"db-{id}"), ct);
        IReadOnlyList<string> differences = ImageSummary.Differences(expected, actual);
        Assert.True(differences.Count == 0, $"{what}: dbuild's image differs from BuildKit's:\n" + string.Join('\n', differences.Take(40)));
    }
}
