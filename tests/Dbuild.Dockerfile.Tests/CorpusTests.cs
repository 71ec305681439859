namespace Dbuild.Dockerfile.Tests;

public sealed class CorpusTests
{
    public static TheoryData<string> Files() => [.. SharedData.CorpusFiles()];

    [Fact]
    public void Corpus_AllFilesPresent_1191() => Assert.Equal(1191, Files().Count);

    [Theory]
    [MemberData(nameof(Files))]
    public void Parse_CorpusFile_MatchesBuildKitDump(string relativePath)
    {
        string path = Path.Combine(SharedData.Corpus, relativePath);
        string dir = Path.GetDirectoryName(path)!;
        ParsedDockerfile parsed = DockerfileParser.ParseFile(path);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "result")), parsed.Dump());
        string heredocs = Path.Combine(dir, "heredocs");
        Assert.Equal(File.Exists(heredocs) ? File.ReadAllText(heredocs) : "", parsed.DumpHeredocs());
    }
}
