using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Store;

/// <summary>
/// Dangling images and <c>rmi</c>, differential: the same two builds of one tag by dbuild and by docker (BuildKit) on the
/// private dockerd, then the same commands; the outputs compare once image IDs are replaced by placeholders.
/// </summary>
public sealed class DanglingImagesTests
{
    [Fact]
    public async Task Rebuild_SameTag_OldImageStaysDanglingAndRemovableById_LikeDocker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string tag = s.Prefix + "/app:1";
        string first = await s.ContextAsync("one", "RUN echo one > /f", ct);
        string second = await s.ContextAsync("two", "RUN echo two > /f", ct);
        string dbuildOld = await s.DbuildBuildAsync(first, tag, ct);
        string dbuildNew = await s.DbuildBuildAsync(second, tag, ct);
        string dockerOld = await s.DockerBuildAsync(first, tag, ct);
        string dockerNew = await s.DockerBuildAsync(second, tag, ct);

        var dbuildRows = (await s.DbuildImagesAsync(ct)).Where(r => r.Repository.StartsWith(s.Prefix, StringComparison.Ordinal) || dbuildOld.Contains(r.Id, StringComparison.Ordinal)).ToList();
        var dockerRows = await s.DockerImagesAsync(ct);
        Assert.Equal([(s.Prefix + "/app", "1", "NEW"), ("<none>", "<none>", "OLD")],
            dockerRows.Select(r => (r.Repository, r.Tag, dockerNew.Contains(r.Id, StringComparison.Ordinal) ? "NEW" : dockerOld.Contains(r.Id, StringComparison.Ordinal) ? "OLD" : r.Id)).ToList());
        Assert.Equal([(s.Prefix + "/app", "1", "NEW"), ("<none>", "<none>", "OLD")],
            dbuildRows.Select(r => (r.Repository, r.Tag, dbuildNew.Contains(r.Id, StringComparison.Ordinal) ? "NEW" : dbuildOld.Contains(r.Id, StringComparison.Ordinal) ? "OLD" : r.Id)).ToList());

        ProcessResult inspected = (await s.DbuildAsync(["inspect", dbuildOld[7..19]], ct)).EnsureSuccess();
        Assert.Contains($"\"Id\": \"{dbuildOld}\"", inspected.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"RepoTags\": []", inspected.StandardOutput, StringComparison.Ordinal);

        ProcessResult dbuildRmi = await s.DbuildAsync(["rmi", dbuildOld[7..19]], ct);
        ProcessResult dockerRmi = await s.DockerAsync(["rmi", dockerOld[7..19]], ct);
        Assert.Equal((dockerRmi.ExitCode, "Deleted: sha256:OLD"),
            (dbuildRmi.ExitCode, StoreScenario.Normalise(dbuildRmi.StandardOutput, new Dictionary<string, string> { [dbuildOld] = "OLD" }).Trim()));
        Assert.StartsWith("Deleted: sha256:OLD\n", StoreScenario.Normalise(dockerRmi.StandardOutput, new Dictionary<string, string> { [dockerOld] = "OLD" }), StringComparison.Ordinal);
        Assert.DoesNotContain(await s.DbuildImagesAsync(ct), r => dbuildOld.Contains(r.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rmi_IdOfTwoTags_RefusedWithoutForce_ThenForceUntagsBoth_LikeDocker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string context = await s.ContextAsync("app", "RUN echo app > /f", ct);
        string dbuildId = await s.DbuildBuildAsync(context, s.Prefix + "/a:1", ct);
        string dockerId = await s.DockerBuildAsync(context, s.Prefix + "/a:1", ct);
        (await s.DbuildAsync(["tag", s.Prefix + "/a:1", s.Prefix + "/b:2"], ct)).EnsureSuccess();
        (await s.DockerAsync(["tag", s.Prefix + "/a:1", s.Prefix + "/b:2"], ct)).EnsureSuccess();
        s.Track(s.Prefix + "/b:2");

        ProcessResult dbuildRefused = await s.DbuildAsync(["rmi", dbuildId[7..19]], ct);
        ProcessResult dockerRefused = await s.DockerAsync(["rmi", dockerId[7..19]], ct);

        Assert.Equal((1, ""), (dockerRefused.ExitCode, dockerRefused.StandardOutput));
        Assert.Equal((dockerRefused.ExitCode, dockerRefused.StandardOutput), (dbuildRefused.ExitCode, dbuildRefused.StandardOutput));
        Assert.Equal(StoreScenario.Normalise(dockerRefused.StandardError, new Dictionary<string, string> { [dockerId] = "ID" }),
            StoreScenario.Normalise(dbuildRefused.StandardError, new Dictionary<string, string> { [dbuildId] = "ID" }));
        Assert.Equal(2, (await s.DbuildImagesAsync(ct)).Count(r => r.Repository.StartsWith(s.Prefix, StringComparison.Ordinal)));

        ProcessResult dbuildForced = (await s.DbuildAsync(["image", "rm", "-f", dbuildId[7..19]], ct)).EnsureSuccess();
        ProcessResult dockerForced = (await s.DockerAsync(["image", "rm", "-f", dockerId[7..19]], ct)).EnsureSuccess();

        static List<string> Lines(string output, string id) =>
            [.. StoreScenario.Normalise(output, new Dictionary<string, string> { [id] = "ID" }).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("<other>", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
        Assert.Equal(Lines(dockerForced.StandardOutput, dockerId), Lines(dbuildForced.StandardOutput, dbuildId));
        Assert.Contains("Deleted: sha256:ID", Lines(dbuildForced.StandardOutput, dbuildId));
        Assert.DoesNotContain(await s.DbuildImagesAsync(ct), r => r.Repository.StartsWith(s.Prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rmi_OneNameOfTwo_UntagsOnly_MissingNameWithForce_Exits0_LikeDocker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string context = await s.ContextAsync("app", "ENV A=1", ct);
        await s.DbuildBuildAsync(context, s.Prefix + "/a:1", ct);
        await s.DockerBuildAsync(context, s.Prefix + "/a:1", ct);
        (await s.DbuildAsync(["tag", s.Prefix + "/a:1", s.Prefix + "/a:2"], ct)).EnsureSuccess();
        (await s.DockerAsync(["tag", s.Prefix + "/a:1", s.Prefix + "/a:2"], ct)).EnsureSuccess();
        s.Track(s.Prefix + "/a:2");
        string missing = s.Prefix + "/nothing";

        foreach (string[] args in (string[][])[["rmi", s.Prefix + "/a:2"], ["rmi", missing], ["rmi", "-f", missing], ["rmi", missing, s.Prefix + "/a:9"]])
        {
            ProcessResult dbuild = await s.DbuildAsync(args, ct);
            ProcessResult docker = await s.DockerAsync(args, ct);
            Assert.Equal((docker.ExitCode, docker.StandardOutput, docker.StandardError), (dbuild.ExitCode, dbuild.StandardOutput, dbuild.StandardError));
        }
    }
}
