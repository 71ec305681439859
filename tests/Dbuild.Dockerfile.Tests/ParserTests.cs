using System.Text;

namespace Dbuild.Dockerfile.Tests;

public sealed class ParserTests
{
    private static ParsedDockerfile Parse(string text) => DockerfileParser.Parse(text);

    [Fact]
    public void Parse_LineOverLimit_ThrowsWithBuildKitMessage()
    {
        string text = "FROM scratch\nRUN " + new string('a', DockerfileParser.MaxLineBytes) + "\n";
        var ex = Assert.Throws<DockerfileSyntaxException>(() => Parse(text));
        Assert.Equal("dockerfile line greater than max allowed size of 65535", ex.Reason);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void Parse_LineAtLimit_Parses()
    {
        string text = "FROM scratch\nRUN " + new string('a', DockerfileParser.MaxLineBytes - 4) + "\n";
        Assert.Equal(2, Parse(text).Instructions.Count);
    }

    [Fact]
    public void Parse_EmptyContinuationLine_Warns()
    {
        ParsedDockerfile parsed = Parse("FROM scratch\nRUN a \\\n\n  b\n");
        ParseWarning warning = Assert.Single(parsed.Warnings);
        Assert.Equal("Empty continuation line found in: RUN a   b", warning.Message);
        Assert.Equal(4, warning.Line);
    }

    [Fact]
    public void Parse_CommentInsideContinuation_NoWarning()
    {
        ParsedDockerfile parsed = Parse("FROM scratch\nRUN a \\\n# note\n  b\n");
        Assert.Empty(parsed.Warnings);
        Assert.Equal("(from \"scratch\")\n(run \"a   b\")\n", parsed.Dump());
    }

    [Fact]
    public void Parse_CrlfAndBom_Handled()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("FROM scratch\r\nRUN echo \\\r\n  hi\r\n")];
        Assert.Equal("(from \"scratch\")\n(run \"echo   hi\")\n", DockerfileParser.Parse(bytes).Dump());
    }

    [Fact]
    public void Parse_EscapeDirective_BacktickContinues()
    {
        ParsedDockerfile parsed = Parse("# escape=`\nFROM scratch\nRUN dir c:\\ `\n  /b\n");
        Assert.Equal('`', parsed.EscapeToken);
        Assert.Equal("(from \"scratch\")\n(run \"dir c:\\\\   /b\")\n", parsed.Dump());
    }

    [Fact]
    public void Parse_DirectiveAfterInstruction_IsComment()
    {
        ParsedDockerfile parsed = Parse("FROM scratch\n# escape=`\n");
        Assert.Equal('\\', parsed.EscapeToken);
        Assert.Empty(parsed.Directives);
    }

    [Fact]
    public void Parse_DuplicateDirective_Throws()
    {
        var ex = Assert.Throws<DockerfileSyntaxException>(() => Parse("# syntax=a\n# SYNTAX=b\nFROM scratch\n"));
        Assert.Equal("only one syntax parser directive can be used", ex.Reason);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void Parse_InvalidEscapeToken_Throws()
    {
        var ex = Assert.Throws<DockerfileSyntaxException>(() => Parse("# escape=x\nFROM scratch\n"));
        Assert.Contains("invalid escape token", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CheckDirective_Recorded()
    {
        ParsedDockerfile parsed = Parse("# syntax=docker/dockerfile:1\n# check=skip=JSONArgsRecommended;error=true\nFROM scratch\n");
        Assert.Equal("skip=JSONArgsRecommended;error=true", parsed.GetDirective("check"));
        Assert.Equal(2, parsed.Directives[1].Line);
    }

    [Fact]
    public void Parse_Heredocs_SeveralPerLineWithQuotesAndChomp()
    {
        ParsedDockerfile parsed = Parse("FROM scratch\nCOPY <<A 3<<-\"B\" /dst/\nline a\nA\n\tline b\n\tB\nRUN x\n");
        Node copy = parsed.Instructions[1];
        Assert.Collection(copy.Heredocs,
            h => Assert.Equal(new Heredoc("A", 0, true, false, "line a\n"), h),
            h => Assert.Equal(new Heredoc("B", 3, false, true, "\tline b\n"), h));
        Assert.Equal("line b\n", copy.Heredocs[1].EffectiveContent);
        Assert.Equal((2, 6), (copy.StartLine, copy.EndLine));
        Assert.Equal(7, parsed.Instructions[2].StartLine);
    }

    [Fact]
    public void Parse_HeredocInOnbuild_Attached()
    {
        ParsedDockerfile parsed = Parse("FROM scratch\nONBUILD RUN <<EOF\necho hi\nEOF\n");
        Assert.Equal("echo hi\n", Assert.Single(parsed.Instructions[1].Heredocs).Content);
        Assert.Equal("(from \"scratch\")\n(onbuild (run \"<<EOF\"))\n", parsed.Dump());
    }

    [Fact]
    public void Parse_UnterminatedHeredoc_Throws()
    {
        var ex = Assert.Throws<DockerfileSyntaxException>(() => Parse("FROM scratch\nRUN <<EOF\necho\n"));
        Assert.Equal("unterminated heredoc", ex.Reason);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public void Parse_JsonHeredocMarker_NotAHeredoc()
    {
        ParsedDockerfile parsed = Parse("FROM scratch\nRUN [\"cat\", \"<<EOF\"]\nRUN x\n");
        Assert.Empty(parsed.Instructions[1].Heredocs);
        Assert.Equal(3, parsed.Instructions.Count);
    }

    [Fact]
    public void Parse_NestedJson_ThrowsWithLocation()
    {
        var ex = Assert.Throws<DockerfileSyntaxException>(() => Parse("FROM scratch\n  CMD [\"a\", 1]\n"));
        Assert.Equal("when using JSON array syntax, arrays must be comprised of strings only", ex.Reason);
        Assert.Equal((2, 3), (ex.Line, ex.Column));
        Assert.StartsWith("Dockerfile:2:3: when using JSON", ex.Message, StringComparison.Ordinal);
        Assert.Contains("  CMD [\"a\", 1]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FlagsWithQuotesAndTerminator_KeptInDump()
    {
        ParsedDockerfile parsed = Parse("FROM scratch\nCOPY --chown=\"a b\" --link -- --x /d\n");
        Assert.Equal("(from \"scratch\")\n(copy [\"--chown=a b\" \"--link\"] \"--x\" \"/d\")\n", parsed.Dump());
    }

    [Fact]
    public void Parse_Positions_KeywordColumn()
    {
        ParsedDockerfile parsed = Parse("FROM scratch\n    RUN a\n");
        Assert.Equal(5, parsed.Instructions[1].Column);
    }

    [Fact]
    public void Parse_NoInstructions_Throws()
    {
        var ex = Assert.Throws<DockerfileSyntaxException>(() => Parse("# only a comment\n\n"));
        Assert.Equal("file with no instructions", ex.Reason);
    }

    [Fact]
    public void Parse_DeeplyNestedSubstitutionAndJson_NoCrash()
    {
        string nested = string.Concat(Enumerable.Repeat("${a:-", 20000)) + "x" + new string('}', 20000);
        // Physical lines stay under the 65,535-byte limit; the continued logical line does not.
        string continued = string.Join("\\\n", nested.Chunk(30000).Select(c => new string(c)));
        ParsedDockerfile parsed = Parse("FROM scratch\nRUN <<EOF " + continued + "\nEOF\n");
        Assert.True(parsed.Instructions.Count >= 2);
        Assert.Throws<WordExpansionException>(() => new ShellLexer().ProcessWord(nested, new Dictionary<string, string>()));
        string json = new string('[', 30000) + new string(']', 30000);
        Assert.Equal(2, Parse("FROM scratch\nCMD " + json + "\n").Instructions.Count);
    }
}
