using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// <c>dbuild build --load</c> (buildx's): the image lands in the docker daemon at DOCKER_HOST under its tag and ID, the
/// same image docker 20.10 builds from the same context; an unreachable daemon is one line.
/// </summary>
public sealed class LoadTests
{
    [Fact]
    public async Task Load_IntoDockerd_SameImageAsBuildKit()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-load-");
        string context = temp.Combine("ctx");
        Directory.CreateDirectory(context);
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"), "ARG BASE\nFROM ${BASE}\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n", ct);
        await File.WriteAllTextAsync(Path.Combine(context, "a.txt"), "loaded\n", ct);
        string id = Guid.NewGuid().ToString("N");
        string loaded = $"dbuild-load/{id}:dbuild", built = $"dbuild-load/{id}:buildkit";
        (await env.DockerAsync(["build", "--network", "none", "--build-arg", "BASE=" + env.BaseImage, "-t", built, context], ct)).EnsureSuccess();

        ProcessResult load = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "quiet", "--build-arg", "BASE=" + env.BaseImage,
            "--load", "-t", loaded, context], ct, new Dictionary<string, string?> { ["DOCKER_HOST"] = env.DockerHost });

        load.EnsureSuccess();
        ProcessResult inspected = (await env.DockerAsync(["image", "inspect", "--format", "{{.Id}}", loaded], ct)).EnsureSuccess();
        Assert.Equal(load.StandardOutput.Trim(), inspected.StandardOutput.Trim());
        (await env.DockerAsync(["save", "-o", temp.Combine("dbuild.tar"), loaded], ct)).EnsureSuccess();
        await env.DockerAsync(["rmi", loaded], CancellationToken.None);
        await ContextOracle.AssertSameImageAsync(env, temp, built, temp.Combine("dbuild.tar"), "--load", ct);
    }

    [Fact]
    public async Task Load_NoDaemon_OneLine()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-load-");
        Directory.CreateDirectory(temp.Combine("ctx"));
        await File.WriteAllTextAsync(temp.Combine("ctx", "Dockerfile"), "FROM scratch\nLABEL a=b\n", ct);

        ProcessResult result = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), "--progress", "quiet", "--load", temp.Combine("ctx")], ct,
            new Dictionary<string, string?> { ["DOCKER_HOST"] = "unix://" + temp.Combine("no.sock") });

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: --load: no docker daemon at unix://{temp.Combine("no.sock")}: the socket does not exist. Start one or point DOCKER_HOST at it.\n",
            result.StandardError);
    }
}
