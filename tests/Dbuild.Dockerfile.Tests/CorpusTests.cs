using Dbuild.Testing;

namespace Dbuild.Dockerfile.Tests;

public sealed class CorpusTests
{
    public static TheoryData<string> Files() =>
        SharedData.Rows(SharedData.Corpus, _ => new TheoryData<string>(SharedData.CorpusFiles()), new TheoryData<string>(SharedData.MissingRow));

    [Fact]
    public void Corpus_AllFilesPresent_1191()
    {
        _ = SharedData.RequireCorpus();
        Assert.Equal(1191, Files().Count);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Parse_CorpusFile_MatchesBuildKitDump(string relativePath)
    {
        string path = Path.Combine(SharedData.RequireCorpus(), relativePath);
        string dir = Path.GetDirectoryName(path)!;
        ParsedDockerfile parsed = DockerfileParser.ParseFile(path);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "result")), parsed.Dump());
        string heredocs = Path.Combine(dir, "heredocs");
        Assert.Equal(File.Exists(heredocs) ? File.ReadAllText(heredocs) : "", parsed.DumpHeredocs());
    }
}
