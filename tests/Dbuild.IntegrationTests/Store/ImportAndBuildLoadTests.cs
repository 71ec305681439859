using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Store;

/// <summary><c>import</c> compared with docker's of the same tarball, and <c>build --load</c> into the private dockerd.</summary>
public sealed class ImportAndBuildLoadTests
{
    private static readonly string[] Changes =
        ["-c", "CMD [\"/bin/sh\"]", "-c", "ENV A=b C=d", "-c", "EXPOSE 80", "-c", "LABEL x=y", "-c", "WORKDIR /w", "-c", "USER 1000", "-c", "VOLUME /data", "-m", "from a test"];

    [Fact]
    public async Task Import_GzipTarWithChanges_SameLayerConfigAndComment_AsDocker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string tarball = s.Combine("rootfs.tar.gz");
        await using (FileStream file = File.Create(tarball))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        await using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "etc/") { Mode = (UnixFileMode)0b111_101_101 }, ct);
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "etc/hello") { DataStream = new MemoryStream("hi\n"u8.ToArray()) }, ct);
        }
        string tag = s.Prefix + "/imported:1";
        s.Track(tag);

        ProcessResult dbuild = (await s.DbuildAsync(["import", .. Changes, tarball, tag], ct)).EnsureSuccess();
        ProcessResult docker = (await s.DockerAsync(["import", .. Changes, tarball, tag], ct)).EnsureSuccess();
        ProcessResult dbuildInspect = (await s.DbuildAsync(["inspect", tag], ct)).EnsureSuccess();
        ProcessResult dockerInspect = (await s.DockerAsync(["image", "inspect", tag], ct)).EnsureSuccess();
        string saved = s.Combine("imported.tar");
        (await s.DbuildAsync(["save", "-o", saved, tag], ct)).EnsureSuccess();
        string config = await ConfigOfArchiveAsync(saved, ct);

        Assert.Matches("^sha256:[0-9a-f]{64}\n$", dbuild.StandardOutput);
        Assert.Matches("^sha256:[0-9a-f]{64}\n$", docker.StandardOutput);
        using JsonDocument ours = JsonDocument.Parse(dbuildInspect.StandardOutput);
        using JsonDocument theirs = JsonDocument.Parse(dockerInspect.StandardOutput);
        JsonElement a = ours.RootElement[0];
        JsonElement b = theirs.RootElement[0];
        Assert.Equal(b.GetProperty("RootFS").GetProperty("Layers")[0].GetString(), a.GetProperty("RootFS").GetProperty("Layers")[0].GetString());
        foreach (string field in (string[])["User", "ExposedPorts", "Env", "Cmd", "Volumes", "WorkingDir", "Labels"])
        {
            Assert.Equal(Compact(b.GetProperty("Config").GetProperty(field)), Compact(a.GetProperty("Config").GetProperty(field)));
        }
        Assert.Equal("from a test", b.GetProperty("Comment").GetString());
        using JsonDocument configJson = JsonDocument.Parse(config);
        Assert.Equal("from a test", configJson.RootElement.GetProperty("comment").GetString());
        Assert.Equal("from a test", configJson.RootElement.GetProperty("history")[0].GetProperty("comment").GetString());
    }

    [Fact]
    public async Task BuildLoad_ImageInDockerWithSameId_NoDaemon_ClearError()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string tag = s.Prefix + "/loaded:1";
        s.Track(tag);
        string context = await s.ContextAsync("load", "RUN echo loaded > /f\nCMD [\"cat\", \"/f\"]", ct);

        ProcessResult build = (await s.DbuildAsync(["build", "-q", "--load", "--build-arg", "BASE=" + s.Env.BaseImage, "-t", tag, context], ct,
            environment: new Dictionary<string, string?> { ["DOCKER_HOST"] = s.Env.DockerHost })).EnsureSuccess();
        ProcessResult inspect = (await s.DockerAsync(["image", "inspect", "--format", "{{.Id}}", tag], ct)).EnsureSuccess();
        ProcessResult run = (await s.DockerAsync(["run", "--rm", "--network", "none", tag], ct)).EnsureSuccess();
        ProcessResult none = await s.DbuildAsync(["build", "-q", "--load", "--build-arg", "BASE=" + s.Env.BaseImage, "-t", tag, context], ct,
            environment: new Dictionary<string, string?> { ["DOCKER_HOST"] = "unix://" + s.Combine("no-docker.sock") });

        Assert.Equal(build.StandardOutput.Trim(), inspect.StandardOutput.Trim());
        Assert.Equal("loaded\n", run.StandardOutput);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains($"--load: no docker daemon at unix://{s.Combine("no-docker.sock")}", none.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_RepositoryWithoutTag_SavesEveryTag_LikeDocker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using StoreScenario s = await StoreScenario.StartAsync(ct);
        string tarball = s.Combine("rootfs.tar");
        await using (var writer = new TarWriter(File.Create(tarball), TarEntryFormat.Pax))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "hello") { DataStream = new MemoryStream("hi\n"u8.ToArray()) }, ct);
        }
        string repository = s.Prefix + "/multi";
        foreach ((string tag, string message) in (IEnumerable<(string, string)>)[("1", "first"), ("2", "second")])
        {
            (await s.DbuildAsync(["import", "-m", message, tarball, $"{repository}:{tag}"], ct)).EnsureSuccess();
            (await s.DockerAsync(["import", "-m", message, tarball, $"{repository}:{tag}"], ct)).EnsureSuccess();
            s.Track($"{repository}:{tag}");
        }
        (await s.DbuildAsync(["tag", repository + ":1", s.Prefix + "/other:1"], ct)).EnsureSuccess();

        (await s.DbuildAsync(["save", "-o", s.Combine("dbuild.tar"), repository], ct)).EnsureSuccess();
        (await s.DockerAsync(["save", "-o", s.Combine("docker.tar"), repository], ct)).EnsureSuccess();
        (await s.DockerAsync(["rmi", repository + ":1", repository + ":2"], ct)).EnsureSuccess();
        ProcessResult load = (await s.DockerAsync(["load", "-i", s.Combine("dbuild.tar")], ct)).EnsureSuccess();

        Assert.Equal(await RepoTagsAsync(s.Combine("docker.tar"), ct), await RepoTagsAsync(s.Combine("dbuild.tar"), ct));
        Assert.Equal([$"Loaded image: {repository}:1", $"Loaded image: {repository}:2"], load.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    /// <summary>Each manifest.json entry's RepoTags, sorted, as one string per image.</summary>
    private static async Task<List<string>> RepoTagsAsync(string archive, CancellationToken ct)
    {
        await using var reader = new TarReader(File.OpenRead(archive));
        while (await reader.GetNextEntryAsync(copyData: true, ct) is { } entry)
        {
            if (entry.Name != "manifest.json" || entry.DataStream is not { } data) { continue; }
            using JsonDocument json = await JsonDocument.ParseAsync(data, cancellationToken: ct);
            return [.. json.RootElement.EnumerateArray().Select(e => string.Join(',', e.GetProperty("RepoTags").EnumerateArray().Select(t => t.GetString()).Order(StringComparer.Ordinal)))
                .Order(StringComparer.Ordinal)];
        }
        throw new InvalidDataException($"{archive} has no manifest.json");
    }

    private static string Compact(JsonElement element) => JsonSerializer.Serialize(element);

    private static async Task<string> ConfigOfArchiveAsync(string archive, CancellationToken ct)
    {
        await using var reader = new TarReader(File.OpenRead(archive));
        while (await reader.GetNextEntryAsync(copyData: true, ct) is { } entry)
        {
            if (entry.Name.EndsWith(".json", StringComparison.Ordinal) && entry.Name != "manifest.json" && entry.DataStream is { } data)
            {
                using var text = new StreamReader(data);
                return await text.ReadToEndAsync(ct);
            }
        }
        throw new InvalidDataException($"{archive} has no config");
    }
}
