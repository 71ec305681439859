using Dbuild.Cli.Commands;
using Dbuild.Cli.Formatting;
using Dbuild.Oci;

namespace Dbuild.Cli.Tests.Formatting;

/// <summary>
/// docker's <c>--format</c> templates: each expected output was printed by docker 20.10's <c>docker images --format</c>
/// for an image tagged <c>127.0.0.1:45991/h1img/a:1</c> (the registry host written as example.com:5000 here).
/// </summary>
public sealed class TemplateEngineTests
{
    private static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeSeconds(1_600_000_000);

    private static ImageRowContext Row(string tag = "1")
    {
        var image = new ImageSummary(Digest.Parse("sha256:858cfcca66d681c1f8d47ee86526448cce99897e6852a43f574bb73c549b5cd5"),
            new Descriptor(MediaTypes.OciManifest, Digest.Parse("sha256:0ddd1c68beb8d8f6ece194d55b4e6c87dad714d5a4e616f945bbb6e88b499824"), 587), [], [])
        { Created = Created, Size = 1_984_290 };
        return new ImageRowContext(image, "example.com:5000/h1img/a", tag, "<none>", truncate: true, Created.AddYears(6).AddDays(30));
    }

    private static string Run(string format, object? data = null) => DockerTemplate.Parse(format).Execute(data ?? Row());

    [Theory]
    [InlineData("{{.ID}}", "858cfcca66d6")]
    [InlineData("{{.Repository}}:{{.Tag}} {{.Digest}}", "example.com:5000/h1img/a:1 <none>")]
    [InlineData("{{.CreatedSince}} | {{.CreatedAt}} | {{.Size}} | {{.VirtualSize}} | {{.Containers}}", "6 years ago | 2020-09-13 12:26:40 +0000 UTC | 1.98MB | 1.984MB | N/A")]
    [InlineData("{{json .}}", """{"Containers":"N/A","CreatedAt":"2020-09-13 12:26:40 +0000 UTC","CreatedSince":"6 years ago","Digest":"\u003cnone\u003e","ID":"858cfcca66d6","Repository":"example.com:5000/h1img/a","SharedSize":"N/A","Size":"1.98MB","Tag":"1","UniqueSize":"N/A","VirtualSize":"1.984MB"}""")]
    [InlineData("{{json .Repository}}", "\"example.com:5000/h1img/a\"")]
    [InlineData("{{- .Tag -}}  {{ .ID }}", "1858cfcca66d6")]
    [InlineData("{{range split .Repository \"/\"}}[{{.}}]{{end}}", "[example.com:5000][h1img][a]")]
    [InlineData("{{join (split .Repository \"/\") \",\"}}", "example.com:5000,h1img,a")]
    [InlineData("{{upper .Tag}} {{lower \"ABC\"}} {{title \"hello world-x\"}} {{pad .Tag 2 3}}| {{truncate .ID 5}}", "1 abc Hello World-X   1   | 858cf")]
    [InlineData("{{printf \"%s-%10s-%-5s|%d\" .Tag .ID .Tag 42}}", "1-858cfcca66d6-1    |42")]
    [InlineData("{{len .Repository}} {{index (split .Repository \"/\") 1}}", "24 h1img")]
    [InlineData("{{with .Tag}}T={{.}}{{end}}{{/* comment */}}", "T=1")]
    [InlineData("{{$t := .Tag}}{{$t}}{{$x := \"a\"}}{{$x = \"b\"}}{{$x}}", "1b")]
    [InlineData("{{print .Tag 1 2 \"x\" 3}}{{println .Tag}}", "11 2x31\n")]
    [InlineData("{{.Tag | printf \"%q\"}} {{\"abc\" | len}}", "\"1\" 3")]
    [InlineData("{{range $i, $e := split .Repository \"/\"}}{{$i}}={{$e}};{{end}}", "0=example.com:5000;1=h1img;2=a;")]
    [InlineData("{{if eq .Tag \"1\"}}one{{else if eq .Tag \"extra\"}}extra{{else}}other{{end}}", "one")]
    [InlineData("{{index .Repository 0}}", "101")]
    [InlineData("{{json .Size}} {{lt .Tag \"z\"}} {{ge 2 1}} {{ne 1 2}} {{or \"\" \"b\"}} {{and 1 0}} {{not \"\"}}", "\"1.98MB\" true true true b 0 true")]
    [InlineData("{{printf \"%d %v %x %5.2f %t %s\" 3 .Tag 255 3.14159 true 7}}", "3 1 ff  3.14 true %!s(int=7)")]
    [InlineData("{{range split \"\" \",\"}}<{{.}}>{{else}}empty{{end}}", "<>")]
    [InlineData("{{(split .Repository \"/\") }}", "[example.com:5000 h1img a]")]
    [InlineData("{{ \"x\" | upper | printf \"%s!\" }}", "X!")]
    [InlineData("{{json (split .Tag \",\")}} {{json \"<a&b>\"}}", "[\"1\"] \"<a&b>\"")]
    [InlineData("{{slice .Tag 0 1}}", "1")]
    public void Execute_AsDockerPrintsIt(string format, string expected) => Assert.Equal(expected, Run(format));

    [Theory]
    [InlineData("{{.Foo}}", "template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type *formatter.imageContext")]
    [InlineData("{{if and .Tag (not .Foo)}}x{{end}}", "template: :1:19: executing \"\" at <.Foo>: can't evaluate field Foo in type *formatter.imageContext")]
    [InlineData("{{.Tag.Foo}}", "template: :1:6: executing \"\" at <.Tag.Foo>: can't evaluate field Foo in type string")]
    [InlineData("{{range .Tag}}x{{end}}", "template: :1:8: executing \"\" at <.Tag>: range can't iterate over 1")]
    [InlineData("{{eq .Tag 1}}", "template: :1:2: executing \"\" at <eq .Tag 1>: error calling eq: incompatible types for comparison")]
    [InlineData("{{\"a\" 1}}", "template: :1:2: executing \"\" at <\"a\">: can't give argument to non-function \"a\"")]
    [InlineData("{{.Tag 1}}", "template: :1:2: executing \"\" at <.Tag>: wrong number of args for Tag: want 0 got 1")]
    [InlineData("{{join .Tag \",\"}}", "template: :1:7: executing \"\" at <.Tag>: wrong type for value; expected []string; got string")]
    [InlineData("{{truncate .Tag}}", "template: :1:2: executing \"\" at <truncate>: wrong number of args for truncate: want 2 got 1")]
    [InlineData("{{index .ID 99}}", "template: :1:2: executing \"\" at <index .ID 99>: error calling index: index out of range: 99")]
    [InlineData("{{(index (split .Repository \"/\") 2).Foo}}", "template: :1:33: executing \"\" at <2>: can't evaluate field Foo in type string")]
    [InlineData("{{.Tag | .ID}}", "template: :1:9: executing \"\" at <.ID>: wrong number of args for ID: want 0 got 1")]
    [InlineData("{{upper 3}}", "template: :1:8: executing \"\" at <3>: expected string; found 3")]
    [InlineData("{{pad .Tag \"a\" 1}}", "template: :1:11: executing \"\" at <\"a\">: expected integer; found \"a\"")]
    [InlineData("{{len 3}}", "template: :1:2: executing \"\" at <len 3>: error calling len: len of type int")]
    public void ExecuteError_DockersOneLine(string format, string expected)
    {
        var error = Assert.Throws<TemplateExecutionException>(() => Run(format));
        Assert.Equal("template parsing error: " + expected, error.Message);
    }

    [Theory]
    [InlineData("{{nosuch .Tag}}", "template: :1: function \"nosuch\" not defined")]
    [InlineData("{{if}}{{end}}", "template: :1: missing value for if")]
    [InlineData("{{.Tag", "template: :1: unclosed action")]
    [InlineData("{{end}}", "template: :1: unexpected {{end}}")]
    [InlineData("{{range .X}}", "template: :1: unexpected EOF")]
    public void ParseError_IsAFormatException(string format, string expected)
    {
        var error = Assert.Throws<TemplateParseException>(() => DockerTemplate.Parse(format));
        Assert.IsAssignableFrom<FormatException>(error); // the CLI exits 2 for it
        Assert.Equal("template parsing error: " + expected, error.Message);
    }

    [Fact]
    public void Table_HeaderFromFieldNamesAndTabwriterColumns()
    {
        DockerTemplate template = DockerTemplate.Parse("table {{.ID}}\\t{{json .Tag}}\\t{{upper .Repository}}");

        string output = template.Render([Row(), Row("extra")], ImageRowContext.Header);

        Assert.Equal("IMAGE ID       TAG       REPOSITORY\n858cfcca66d6   \"1\"       EXAMPLE.COM:5000/H1IMG/A\n858cfcca66d6   \"extra\"   EXAMPLE.COM:5000/H1IMG/A\n", output);
    }

    [Fact]
    public void Table_NoRows_StillPrintsTheHeader() =>
        Assert.Equal("REPOSITORY   TAG\n", DockerTemplate.Parse("table {{.Repository}}\t{{.Tag}}").Render([], ImageRowContext.Header));

    [Fact]
    public void Inspect_TypedViewFirst_ThenThePlainJsonWithMissingKeyError()
    {
        var json = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(
            """{"Id":"sha256:1","RepoTags":["a:1"],"Config":{"Env":["A=1"],"Cmd":null,"Labels":{"b":"x"}},"RootFS":{"Type":"layers","Layers":["sha256:2"]},"Metadata":{"LastTagTime":"0001-01-01T00:00:00Z"}}""")!;
        string Inspect(string format) => DockerTemplate.ParseInspect(format).ExecuteTypedThenRaw(ImageInspectTyped.Build(json), GoFormat.FromJson(json));

        Assert.Equal("[A=1] [] map[b:x] map[] ", Inspect("{{.Config.Env}} {{.Config.Cmd}} {{.Config.Labels}} {{.Config.Volumes}} {{index .Config.Labels \"zz\"}}"));
        Assert.Equal("{layers [sha256:2] } 0001-01-01 00:00:00 +0000 UTC", Inspect("{{.RootFS}} {{.Metadata.LastTagTime}}"));
        Assert.Equal("template parsing error: template: :1:9: executing \"\" at <.Config.Foo>: map has no entry for key \"Foo\"",
            Assert.Throws<TemplateExecutionException>(() => Inspect("{{.Config.Foo}}")).Message);
    }
}
