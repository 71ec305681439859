using System.Formats.Tar;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Build;

/// <summary>
/// Contexts that arrive as one stream: <c>-</c> on stdin (a tar, plain or gzip/bzip2/xz/zstd, or a Dockerfile alone;
/// <c>-f -</c> with a directory) and an http URL (a tar or a Dockerfile) served on 127.0.0.1, each compared with docker
/// 20.10 building the same input; bad input gives one line. Docker 20.10 has no zstd: there it builds the gzip tar.
/// The .dockerignore in these contexts is not applied, by BuildKit nor dbuild (only a local directory's is).
/// </summary>
public sealed class ArchiveContextTests
{
    private const string ContextDockerfile = "ARG BASE\nFROM ${BASE}\nCOPY . /ctx/\nRUN cat /ctx/a.txt > /copied\n";

    [Theory]
    [InlineData("tar")]
    [InlineData("gzip")]
    [InlineData("bzip2")]
    [InlineData("xz")]
    [InlineData("zstd")]
    public async Task StdinTar_SameImageAsBuildKit(string compression)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-tarctx-");
        string input = await CompressAsync(await MakeContextTarAsync(temp, ct), compression, ct);
        string dockerInput = compression == "zstd" ? await CompressAsync(temp.Combine("ctx.tar"), "gzip", ct) : input;
        string tag = Tag();
        (await env.DockerWithStdinAsync(dockerInput, ["build", "--network", "none", "--build-arg", "BASE=" + env.BaseImage, "-t", tag, "-"], ct)).EnsureSuccess();

        (await BuildEnvironment.DbuildWithStdinAsync(input, [.. Build(temp, env), "-"], ct)).EnsureSuccess();

        await ContextOracle.AssertSameImageAsync(env, temp, tag, temp.Combine("dbuild.tar"), $"{compression} tar on stdin", ct);
        ImageSummary image = await ImageSummary.LoadAsync(temp.Combine("dbuild.tar"), temp.Combine("db"), ct);
        Assert.Contains("ctx/dir/deep/b.txt", image.Files.Keys);
        Assert.Contains("ctx/ignored.txt", image.Files.Keys); // BuildKit applies no .dockerignore to a context that is not a local directory
    }

    [Fact]
    public async Task StdinDockerfileOnly_SameImageAsBuildKit()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-tarctx-");
        string dockerfile = temp.Combine("Dockerfile");
        await File.WriteAllTextAsync(dockerfile, "ARG BASE\nFROM ${BASE}\nRUN echo hi > /hi\nLABEL only=dockerfile\n", ct);
        string tag = Tag();
        (await env.DockerWithStdinAsync(dockerfile, ["build", "--network", "none", "--build-arg", "BASE=" + env.BaseImage, "-t", tag, "-"], ct)).EnsureSuccess();

        (await BuildEnvironment.DbuildWithStdinAsync(dockerfile, [.. Build(temp, env), "-"], ct)).EnsureSuccess();

        await ContextOracle.AssertSameImageAsync(env, temp, tag, temp.Combine("dbuild.tar"), "a Dockerfile on stdin", ct);
    }

    [Fact]
    public async Task DockerfileOnStdin_WithDirectoryContext_SameImageAsBuildKit()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-tarctx-");
        await MakeContextTarAsync(temp, ct);
        string dockerfile = temp.Combine("Dockerfile.stdin");
        await File.WriteAllTextAsync(dockerfile, "ARG BASE\nFROM ${BASE}\nCOPY a.txt bin/ /only/\n", ct);
        string tag = Tag();
        (await env.DockerWithStdinAsync(dockerfile, ["build", "--network", "none", "--build-arg", "BASE=" + env.BaseImage, "-t", tag, "-f", "-", temp.Combine("ctx")], ct))
            .EnsureSuccess();

        (await BuildEnvironment.DbuildWithStdinAsync(dockerfile, [.. Build(temp, env), "-f", "-", temp.Combine("ctx")], ct)).EnsureSuccess();

        await ContextOracle.AssertSameImageAsync(env, temp, tag, temp.Combine("dbuild.tar"), "-f - with a directory", ct);
    }

    [Theory]
    [InlineData("ctx.tar.gz")]
    [InlineData("ctx.tar")]
    [InlineData("Dockerfile.txt")] // not an archive: the Dockerfile, the context empty
    public async Task HttpContext_SameImageAsBuildKit(string file)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        BuildEnvironment env = await BuildEnvironment.GetAsync(ct);
        using var temp = new TempDirectory("dbuild-tarctx-");
        string site = temp.Combine("site");
        Directory.CreateDirectory(site);
        File.Move(await CompressAsync(await MakeContextTarAsync(temp, ct), "gzip", ct), Path.Combine(site, "ctx.tar.gz"));
        File.Move(temp.Combine("ctx.tar"), Path.Combine(site, "ctx.tar"));
        await File.WriteAllTextAsync(Path.Combine(site, "Dockerfile.txt"), "ARG BASE\nFROM ${BASE}\nENV FROM_URL=1\nRUN echo url > /url\n", ct);
        await using StaticHttpServer server = await StaticHttpServer.StartAsync(site, file, ct);
        string tag = Tag();
        (await env.DockerAsync(["build", "--network", "none", "--build-arg", "BASE=" + env.BaseImage, "-t", tag, server.Url(file)], ct)).EnsureSuccess();

        (await BuildEnvironment.DbuildAsync([.. Build(temp, env), server.Url(file)], ct)).EnsureSuccess();

        await ContextOracle.AssertSameImageAsync(env, temp, tag, temp.Combine("dbuild.tar"), server.Url(file), ct);
    }

    [Fact]
    public async Task HttpContext_MissingOrUnreachable_OneLineWithTheStatus()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-tarctx-");
        Directory.CreateDirectory(temp.Combine("site"));
        await File.WriteAllTextAsync(temp.Combine("site", "probe"), "", ct);
        await using StaticHttpServer server = await StaticHttpServer.StartAsync(temp.Combine("site"), "probe", ct);
        string closed = $"http://127.0.0.1:{RegistryClient.DistributionRegistry.FreePort()}/ctx.tar";

        ProcessResult missing = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), server.Url("missing.tar")], ct);
        ProcessResult refused = await BuildEnvironment.DbuildAsync(["build", "--root", temp.Combine("root"), closed], ct);

        AssertOneLine(missing, 1, $"error: unable to prepare context: unable to download remote context {server.Url("missing.tar")}: HTTP 404 ");
        AssertOneLine(refused, 1, $"error: unable to prepare context: unable to download remote context {closed}: Connection refused");
    }

    [Fact]
    public async Task Stdin_BadInput_OneLineNamingTheProblem()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("dbuild-tarctx-");
        string gz = await CompressAsync(await MakeContextTarAsync(temp, ct), "gzip", ct);
        string truncated = temp.Combine("truncated.tar.gz");
        await File.WriteAllBytesAsync(truncated, (await File.ReadAllBytesAsync(gz, ct))[..100], ct);
        string notTar = temp.Combine("text.gz");
        await File.WriteAllTextAsync(temp.Combine("text"), "just text\n", ct);
        await CompressAsync(temp.Combine("text"), "gzip", ct);
        string escaping = temp.Combine("escaping.tar");
        await using (FileStream stream = File.Create(escaping))
        await using (var writer = new TarWriter(stream))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "esc") { LinkName = temp.Combine("outside") }, ct);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "esc/pwned"), ct);
        }
        string[] build = ["build", "--root", temp.Combine("root"), "-"];

        AssertOneLine(await BuildEnvironment.DbuildWithStdinAsync(truncated, build, ct), 1,
            "error: unable to prepare context: the context on stdin is not a valid gzip-compressed tar archive: it ends too early (truncated?)");
        AssertOneLine(await BuildEnvironment.DbuildWithStdinAsync(notTar, build, ct), 1,
            "error: unable to prepare context: the context on stdin is a gzip stream but not of a tar archive");
        AssertOneLine(await BuildEnvironment.DbuildWithStdinAsync(escaping, build, ct), 1,
            "error: unable to prepare context: the context on stdin: the entry \"esc/pwned\" is below the symlink \"esc\"");
        AssertOneLine(await BuildEnvironment.DbuildWithStdinAsync(gz, ["build", "--root", temp.Combine("root"), "-f", "-", "-"], ct), 2,
            "error: invalid argument: can't use stdin for both build context and dockerfile");
        Assert.False(Path.Exists(temp.Combine("outside", "pwned")));
    }

    private static void AssertOneLine(ProcessResult result, int exitCode, string expectedStart)
    {
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Empty(result.StandardOutput);
        string line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(expectedStart, line, StringComparison.Ordinal);
    }

    private static string Tag() => $"dbuild-tarctx/{Guid.NewGuid():N}:latest";

    private static string[] Build(TempDirectory temp, BuildEnvironment env) =>
        ["build", "--root", temp.Combine("root"), "--progress", "plain", "--build-arg", "BASE=" + env.BaseImage, "-t", "x", "-o", "type=docker,dest=" + temp.Combine("dbuild.tar")];

    /// <summary>temp/ctx (a Dockerfile, files, an executable, a symlink, a .dockerignore) and temp/ctx.tar of it.</summary>
    private static async Task<string> MakeContextTarAsync(TempDirectory temp, CancellationToken ct)
    {
        string ctx = temp.Combine("ctx");
        Directory.CreateDirectory(Path.Combine(ctx, "dir", "deep"));
        Directory.CreateDirectory(Path.Combine(ctx, "bin"));
        await File.WriteAllTextAsync(Path.Combine(ctx, "Dockerfile"), ContextDockerfile, ct);
        await File.WriteAllTextAsync(Path.Combine(ctx, ".dockerignore"), "ignored.txt\n", ct);
        await File.WriteAllTextAsync(Path.Combine(ctx, "ignored.txt"), "ignored\n", ct);
        await File.WriteAllTextAsync(Path.Combine(ctx, "a.txt"), "a\n", ct);
        await File.WriteAllTextAsync(Path.Combine(ctx, "dir", "deep", "b.txt"), "b\n", ct);
        await File.WriteAllTextAsync(Path.Combine(ctx, "bin", "run.sh"), "#!/bin/sh\necho run\n", ct);
        File.SetUnixFileMode(Path.Combine(ctx, "bin", "run.sh"), (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(ctx, "link"), "a.txt");
        (await ProcessRunner.RunAsync("tar", ["-C", ctx, "-cf", temp.Combine("ctx.tar"), "."], ct)).EnsureSuccess();
        return temp.Combine("ctx.tar");
    }

    /// <summary>Compresses <paramref name="file"/> with the named tool into FILE.EXT (keeping the original); "tar" returns it as is.</summary>
    private static async Task<string> CompressAsync(string file, string compression, CancellationToken ct)
    {
        if (compression == "tar") { return file; }
        string tool = Prerequisites.RequireTool(compression, compression);
        string output = file + compression switch { "gzip" => ".gz", "bzip2" => ".bz2", "xz" => ".xz", _ => ".zst" };
        (await ProcessRunner.RunAsync("sh", ["-c", "\"$0\" -c < \"$1\" > \"$2\"", tool, file, output], ct)).EnsureSuccess();
        return output;
    }
}
