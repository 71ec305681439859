using Dbuild.Testing;

namespace Dbuild.Dockerfile.Tests;

public sealed class ParserCaseTests
{
    public static TheoryData<string> Cases() => CaseNames("testfiles");

    public static TheoryData<string> NegativeCases() => CaseNames("testfiles-negative");

    private static TheoryData<string> CaseNames(string folder) =>
        SharedData.Rows(Path.Combine(SharedData.ParserCases, folder),
            dir => new TheoryData<string>(Directory.GetDirectories(dir).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal)),
            new TheoryData<string>(SharedData.MissingRow));

    [Fact]
    public void Cases_AllPresent_ThirtyThree()
    {
        _ = SharedData.RequireParserCase("testfiles");
        Assert.Equal(33, Cases().Count);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parse_BuildKitTestfile_DumpIsByteIdentical(string name)
    {
        string dir = Path.Combine(SharedData.RequireParserCase("testfiles"), name);
        ParsedDockerfile parsed = DockerfileParser.ParseFile(Path.Combine(dir, "Dockerfile"));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "result")), parsed.Dump());
        string warnings = Path.Combine(dir, "warnings");
        if (File.Exists(warnings))
        {
            string expected = File.ReadAllText(warnings);
            string actual = string.Concat(parsed.Warnings.Select(w => $"{w.Line}\t{w.Message}\n"));
            Assert.Equal(expected, actual);
        }
        else
        {
            Assert.Empty(parsed.Warnings);
        }
    }

    [Theory]
    [MemberData(nameof(NegativeCases))]
    public void Parse_BuildKitNegativeCase_Throws(string name)
    {
        string dir = Path.Combine(SharedData.RequireParserCase("testfiles-negative"), name);
        var ex = Assert.Throws<DockerfileSyntaxException>(() => DockerfileParser.ParseFile(Path.Combine(dir, "Dockerfile")));
        string errorFile = Path.Combine(dir, "parse-error");
        if (File.Exists(errorFile))
        {
            Assert.Equal(File.ReadAllText(errorFile).Trim(), ex.Reason);
        }
    }

    [Fact]
    public void Parse_LineNumberCase_NodesSpanExpectedLines()
    {
        ParsedDockerfile parsed = DockerfileParser.ParseFile(SharedData.RequireParserCase(Path.Combine("testfile-line", "Dockerfile")));
        Assert.Equal(5, parsed.Root.StartLine);
        Assert.Equal(31, parsed.Root.EndLine);
        Assert.Collection(parsed.Instructions,
            n => Assert.Equal(("from", 5, 5), (n.Value, n.StartLine, n.EndLine)),
            n => Assert.Equal(("env", 11, 12), (n.Value, n.StartLine, n.EndLine)),
            n => Assert.Equal(("run", 17, 31), (n.Value, n.StartLine, n.EndLine)));
        Assert.Equal("\\", parsed.GetDirective("escape"));
    }
}
