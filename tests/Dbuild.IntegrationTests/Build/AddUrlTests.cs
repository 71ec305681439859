using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>ADD of an http URL served on 127.0.0.1: same file tree as BuildKit; --checksum verified.</summary>
public sealed class AddUrlTests
{
    private const string Dockerfile = """
        ARG BASE
        FROM ${BASE}
        ARG URL
        ADD ${URL} /downloads/
        ADD ${URL} /renamed.txt
        """;

    private static async Task<(StaticHttpServer Server, string Url)> ServeAsync(TempDirectory temp, CancellationToken ct)
    {
        string site = temp.Combine("site");
        Directory.CreateDirectory(site);
        await File.WriteAllTextAsync(Path.Combine(site, "payload.txt"), "downloaded payload\n", ct);
        File.SetLastWriteTimeUtc(Path.Combine(site, "payload.txt"), new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        StaticHttpServer server = await StaticHttpServer.StartAsync(site, "payload.txt", ct);
        return (server, server.Url("payload.txt"));
    }

    [Fact]
    public async Task AddUrl_MatchesBuildKit()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-addurl-");
        (StaticHttpServer server, string url) = await ServeAsync(temp, ct);
        await using (server)
        {
            string context = temp.Combine("ctx");
            Directory.CreateDirectory(context);
            await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), Dockerfile, ct);
            string tag = "dbuild-diff/add-url:latest";
            (await env.DockerAsync(["build", "--network", "none", "--build-arg", "BASE=" + env.BaseImage, "--build-arg", "URL=" + url, "-t", tag, context], ct)).EnsureSuccess();
            (await env.DockerAsync(["save", "-o", temp.Combine("buildkit.tar"), tag], ct)).EnsureSuccess();
            (await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--build-arg", "BASE=" + env.BaseImage, "--build-arg", "URL=" + url,
                "-t", tag, "-o", "type=docker,dest=" + temp.Combine("dbuild.tar"), context], ct)).EnsureSuccess();

            ImageSummary expected = await ImageSummary.LoadAsync(temp.Combine("buildkit.tar"), temp.Combine("bk"), ct);
            ImageSummary actual = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);
            IReadOnlyList<string> differences = ImageSummary.Differences(expected, actual);

            Assert.True(differences.Count == 0, "ADD URL differs from BuildKit:\n" + string.Join('\n', differences));
        }
    }

    [Fact]
    public async Task AddUrl_WrongChecksum_FailsNamingBothDigests()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-addurl-");
        (StaticHttpServer server, string url) = await ServeAsync(temp, ct);
        await using (server)
        {
            string context = temp.Combine("ctx");
            Directory.CreateDirectory(context);
            await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"),
                $"ARG BASE\nFROM ${{BASE}}\nADD --checksum=sha256:{new string('0', 64)} {url} /x\n", ct);

            ProcessResult result = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--build-arg", "BASE=" + env.BaseImage, context], ct);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("digest mismatch: expected sha256:0000", result.StandardError, StringComparison.Ordinal);
        }
    }
}
