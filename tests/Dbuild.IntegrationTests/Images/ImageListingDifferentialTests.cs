using System.Text.Json.Nodes;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Images;

/// <summary>
/// <c>images</c>, <c>inspect</c> and <c>history</c> against docker 20.10 over the same images
/// (<see cref="ImageListingEnvironment"/>): the same command on both sides prints the same rows, byte for byte.
/// </summary>
public sealed class ImageListingDifferentialTests(ImageListingEnvironment images) : IClassFixture<ImageListingEnvironment>
{
    private async Task<(ProcessResult Docker, ProcessResult Dbuild)> BothAsync(params string[] arguments)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string[] expanded = [.. arguments.Select(images.Expand)];
        return (await images.DockerAsync(expanded, ct), await images.DbuildAsync(expanded, ct));
    }

    private async Task AssertSameOutputAsync(params string[] arguments)
    {
        (ProcessResult docker, ProcessResult dbuild) = await BothAsync(arguments);
        docker.EnsureSuccess();
        dbuild.EnsureSuccess();
        Assert.Equal(docker.StandardOutput, dbuild.StandardOutput);
    }

    public static TheoryData<string> ImageFormats => new(
        "{{.ID}}", "{{.Repository}}:{{.Tag}} {{.Digest}}", "{{.CreatedSince}}|{{.CreatedAt}}|{{.Size}}|{{.VirtualSize}}|{{.Containers}}",
        "{{json .}}", "{{json .Repository}}", "{{index (split .Repository \"/\") 2}}", "{{range split .Tag \"x\"}}<{{.}}>{{end}}",
        "{{if eq .Tag \"1\"}}one{{else if eq .Tag \"extra\"}}extra{{else}}{{.Tag}}{{end}}", "{{- .Tag -}}  {{ upper .Repository }}",
        "{{join (split .Repository \"/\") \",\"}} {{title .Tag}} {{pad .Tag 1 2}}| {{truncate .ID 4}} {{printf \"%-8s|\" .Tag}}",
        "table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}", "table {{.ID}}\\t{{json .Tag}}\\t{{lower .Repository}}", "table {{.Digest}}\\t{{.CreatedAt}}",
        "table");

    [Theory]
    [MemberData(nameof(ImageFormats))]
    public Task Images_Format_SameRowsAsDocker(string format) => AssertSameOutputAsync("images", "--format", format, "{all}");

    public static TheoryData<string[]> ImageFlags => new(
        ["images", "{all}"], ["images", "-q", "{all}"], ["images", "--digests", "{all}"], ["images", "--no-trunc", "{all}"], ["images", "-a", "{all}"],
        ["images", "--digests", "--no-trunc", "{all}"], ["images", "-q", "--no-trunc", "{all}"], ["images", "{a}"], ["images", "--digests", "{a}"],
        ["images", "{prefix}/a"], ["images", "{prefix}/*:latest"], ["images", "--digests", "--format", "table {{.Tag}}", "{all}"],
        ["image", "ls", "{all}"], ["image", "list", "-q", "{prefix}/b"]);

    [Theory]
    [MemberData(nameof(ImageFlags))]
    public Task Images_Flags_SameRowsAsDocker(string[] arguments) => AssertSameOutputAsync(arguments);

    public static TheoryData<string> GoodFilters => new(
        "dangling=true", "dangling=false", "label=a", "label=a=1", "label=b", "label=b=x", "label=zz", "before={b}", "since={a}",
        "reference=*/h1img-*/a", "reference={prefix}/a:e*", "reference={prefix}/*:latest");

    [Theory]
    [MemberData(nameof(GoodFilters))]
    public Task Images_Filter_SameRowsAsDocker(string filter) => AssertSameOutputAsync("images", "--filter", filter, "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", "{all}");

    public static TheoryData<string, string> BadFilters => new()
    {
        { "foo=bar", "Invalid filter 'foo'" },
        { "dangling=maybe", "Invalid filter 'dangling=[maybe]'" },
        { "until=1h", "Invalid filter 'until'" },
        { "reference=[", "syntax error in pattern" },
        { "before=nosuch", "No such image: nosuch:latest" },
    };

    [Theory]
    [MemberData(nameof(BadFilters))]
    public async Task Images_BadFilter_DockersMessageOnOneLine(string filter, string message)
    {
        (ProcessResult docker, ProcessResult dbuild) = await BothAsync("images", "--filter", filter);

        Assert.Equal($"Error response from daemon: {message}\n", docker.StandardError);
        Assert.Equal($"error: {message}\n", dbuild.StandardError);
        Assert.Equal("", dbuild.StandardOutput);
        Assert.Equal(message.StartsWith("No such", StringComparison.Ordinal) ? 1 : 2, dbuild.ExitCode);
    }

    [Theory]
    [InlineData("{{.Foo}}", 1)]
    [InlineData("{{.Tag.Foo}}", 1)]
    [InlineData("{{index .ID 99}}", 1)]
    [InlineData("{{.Foo", 2)]
    [InlineData("{{nosuch .Tag}}", 2)]
    public async Task Images_BadTemplate_DockersError(string format, int exitCode)
    {
        (ProcessResult docker, ProcessResult dbuild) = await BothAsync("images", "--format", format, "{all}");

        Assert.Equal(1, docker.ExitCode);
        Assert.Equal(exitCode, dbuild.ExitCode);
        Assert.Equal("error: " + docker.StandardError, dbuild.StandardError);
    }

    [Fact]
    public async Task Inspect_Json_SameFieldsAndOrderAsDocker()
    {
        (ProcessResult docker, ProcessResult dbuild) = await BothAsync("image", "inspect", "{a}", "{b}");
        var expected = (JsonArray)JsonNode.Parse(docker.EnsureSuccess().StandardOutput)!;
        var actual = (JsonArray)JsonNode.Parse(dbuild.EnsureSuccess().StandardOutput)!;

        Assert.Equal(2, actual.Count);
        for (int i = 0; i < 2; i++)
        {
            var want = (JsonObject)expected[i]!;
            var got = (JsonObject)actual[i]!;
            Assert.Equal(want.Select(p => p.Key), got.Select(p => p.Key));
            foreach (string field in new[] { "Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Container", "ContainerConfig", "DockerVersion", "Author", "Config", "Architecture", "Os", "Size", "VirtualSize", "RootFS" })
            {
                Assert.Equal(want[field]?.ToJsonString(), got[field]?.ToJsonString());
            }
        }
        Assert.StartsWith("[\n    {\n        \"Id\": \"sha256:", dbuild.StandardOutput, StringComparison.Ordinal); // docker's four-space indent
    }

    public static TheoryData<string> InspectFormats => new(
        "{{.Id}} {{.RepoTags}} {{.RepoDigests}}", "{{json .Config}}", "{{json .RootFS}} {{.Size}} {{.VirtualSize}}",
        "{{.Config.Env}} {{.Config.Labels}} {{.Config.Cmd}} {{.Config.Entrypoint}} {{.Config.Volumes}} {{.Config.ExposedPorts}}",
        "{{index .RepoDigests 0}} {{index .Config.Labels \"a\"}} {{index .Config.Labels \"zz\"}}", "{{range .RootFS.Layers}}{{.}} {{end}}",
        "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}", "{{.Architecture}}/{{.Os}} {{.Created}} {{.Comment}} {{.Author}} {{.Parent}}",
        "{{json .ContainerConfig}}", "{{.Config.ArgsEscaped}} {{.Config.User}}x{{.Config.WorkingDir}} {{.Config.Hostname}}",
        "{{if .Config.Labels}}has{{else}}none{{end}} {{len .RootFS.Layers}}", "{{.ContainerConfig.Env}} {{.ContainerConfig.Labels}}",
        "{{json .RepoTags}}", "{{.RootFS}}", "{{.Config}}", "{{.ContainerConfig}}", "{{.Config.Healthcheck}} {{.Config.StopTimeout}}");

    [Theory]
    [MemberData(nameof(InspectFormats))]
    public Task Inspect_Format_SameAsDocker(string format) => AssertSameOutputAsync("image", "inspect", "-f", format, "{a}", "{b}");

    [Theory]
    [InlineData("image", "image")]
    [InlineData("inspect", "object")]
    public async Task Inspect_MissingImage_PrintsTheOthersThenNamesIt(string verb, string word)
    {
        string[] arguments = verb == "image" ? ["image", "inspect", "-f", "{{.Os}}", "{a}", "nosuch"] : ["inspect", "-f", "{{.Os}}", "{a}", "nosuch"];
        (ProcessResult docker, ProcessResult dbuild) = await BothAsync(arguments);

        Assert.Equal((1, "linux\n"), (docker.ExitCode, docker.StandardOutput));
        Assert.Equal((1, "linux\n"), (dbuild.ExitCode, dbuild.StandardOutput));
        Assert.Equal($"Error: No such {word}: nosuch\n", dbuild.StandardError);
    }

    [Theory]
    [InlineData("{{.Foo}}")]
    [InlineData("{{.Config.Foo}}")]
    public async Task Inspect_MissingKey_DockersError(string format)
    {
        (ProcessResult docker, ProcessResult dbuild) = await BothAsync("image", "inspect", "-f", format, "{a}");

        Assert.Equal((1, docker.StandardOutput), (dbuild.ExitCode, dbuild.StandardOutput));
        Assert.Equal("error: " + docker.StandardError, dbuild.StandardError);
    }

    public static TheoryData<string[]> HistoryArguments => new(
        ["history", "{a}"], ["history", "-q", "{b}"], ["history", "--no-trunc", "{a}"], ["history", "-H=false", "{b}"],
        ["history", "--format", "{{json .}}", "{a}"], ["history", "--format", "table {{.ID}}\\t{{.CreatedAt}}\\t{{.Size}}", "{b}"],
        ["image", "history", "--format", "{{.CreatedBy}}|{{.Comment}}|{{.CreatedSince}}", "{a}"]);

    [Theory]
    [MemberData(nameof(HistoryArguments))]
    public Task History_SameRowsAsDocker(string[] arguments) => AssertSameOutputAsync(arguments);
}
