namespace Dbuild.Dockerfile.Tests;

public sealed class ShellLexerTests
{
    private static readonly Dictionary<string, string> Env = new(StringComparer.Ordinal)
    {
        ["file"] = "archive.tar.gz",
        ["path"] = "/usr/local/bin",
        ["empty"] = "",
        ["v"] = "a-b-a-b",
    };

    [Theory]
    [InlineData("${file#*.}", "tar.gz")]
    [InlineData("${file##*.}", "gz")]
    [InlineData("${file%.*}", "archive.tar")]
    [InlineData("${file%%.*}", "archive")]
    [InlineData("${path#/usr}", "/local/bin")]
    [InlineData("${v/a/X}", "X-b-a-b")]
    [InlineData("${v//a/X}", "X-b-X-b")]
    [InlineData("${v//?-/}", "b")]
    [InlineData("${empty:-dflt}", "dflt")]
    [InlineData("${empty-dflt}", "")]
    [InlineData("${unset-dflt}", "dflt")]
    [InlineData("${empty:+alt}", "")]
    [InlineData("${empty+alt}", "alt")]
    [InlineData("${v:?must be set}", "a-b-a-b")]
    [InlineData("${file%\\*}", "archive.tar.gz")]
    public void ProcessWord_Modifiers_ExpandLikeBuildKit(string word, string expected) =>
        Assert.Equal(expected, new ShellLexer().ProcessWord(word, Env));

    [Theory]
    [InlineData("${unset:?custom}", "unset: custom")]
    [InlineData("${empty:?}", "empty: is not allowed to be empty")]
    [InlineData("${unset?}", "unset: is not allowed to be unset")]
    [InlineData("${v:#x}", "unsupported modifier (:#) in substitution")]
    public void ProcessWord_ErrorModifiers_Throw(string word, string message)
    {
        var ex = Assert.Throws<WordExpansionException>(() => new ShellLexer().ProcessWord(word, Env));
        Assert.EndsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProcessWords_SplitsExpandedValueButNotQuoted()
    {
        var env = new Dictionary<string, string> { ["x"] = "1 2" };
        Assert.Equal(["a", "1", "2", "b 1 2"], new ShellLexer().ProcessWords("a $x \"b $x\"", env));
    }

    [Fact]
    public void ProcessWord_BacktickEscape_EscapesDollar()
    {
        Assert.Equal("$x\\y", new ShellLexer('`').ProcessWord("`$x\\y", Env));
    }

    [Fact]
    public void Process_ReportsMatchedAndUnmatched()
    {
        WordExpansion result = new ShellLexer().Process("$file ${nope:-x}", Env);
        Assert.Contains("file", result.Matched);
        Assert.Contains("nope", result.Unmatched);
    }

    [Fact]
    public void SkipUnsetEnv_KeepsUnsetAsWritten()
    {
        var lexer = new ShellLexer { SkipUnsetEnv = true };
        Assert.Equal("$nope ${nope} ${nope:-d}", lexer.ProcessWord("$nope ${nope} ${nope:-d}", Env));
    }
}
