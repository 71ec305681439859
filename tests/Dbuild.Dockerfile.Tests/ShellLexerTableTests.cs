using Dbuild.Testing;

namespace Dbuild.Dockerfile.Tests;

/// <summary>BuildKit's envVarTest and wordsTest tables, row by row.</summary>
public sealed class ShellLexerTableTests
{
    private const string EnvVarTable = "shell-lexer/envVarTest";
    private const string WordsTable = "shell-lexer/wordsTest";

    public static TheoryData<int, string, string, string> EnvVarRows() =>
        SharedData.Rows(Path.Combine(SharedData.ParserCases, EnvVarTable), ReadEnvVarRows, Placeholder());

    public static TheoryData<int, string, string, string> WordsRows() =>
        SharedData.Rows(Path.Combine(SharedData.ParserCases, WordsTable), ReadWordsRows, Placeholder());

    private static TheoryData<int, string, string, string> Placeholder() => new() { { 0, "", SharedData.MissingRow, "" } };

    private static TheoryData<int, string, string, string> ReadEnvVarRows(string table)
    {
        var data = new TheoryData<int, string, string, string>();
        string[] lines = File.ReadAllLines(table);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.StartsWith('#') || line.Trim().Length == 0) { continue; }
            string[] parts = line.Split('|');
            data.Add(i + 1, parts[0].Trim(), parts[1].Trim(), parts[2].Trim());
        }
        return data;
    }

    private static TheoryData<int, string, string, string> ReadWordsRows(string table)
    {
        var data = new TheoryData<int, string, string, string>();
        string[] lines = File.ReadAllLines(table);
        var env = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.StartsWith('#') || line.Trim().Length == 0) { continue; }
            if (line.StartsWith("ENV ", StringComparison.Ordinal))
            {
                env.Add(line[4..].TrimStart());
                continue;
            }
            string[] parts = line.Split('|');
            // Upstream trims the input but only the left of the expectation: trailing blanks are significant.
            data.Add(i + 1, string.Join('\n', env), parts[0].Trim(), parts[1].TrimStart(' '));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EnvVarRows))]
    public void ProcessWord_EnvVarTestRow_MatchesExpected(int line, string platform, string input, string expected)
    {
        _ = SharedData.RequireParserCase(EnvVarTable);
        // Windows rows differ only in that variable names are case-insensitive there.
        bool windows = platform == "W";
        var env = new Dictionary<string, string>(windows ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal)
        {
            ["PWD"] = "/home",
            ["SHELL"] = "bash",
            ["KOREAN"] = "한국어",
            ["NULL"] = "",
        };
        var lexer = new ShellLexer('\\');
        if (expected == "error")
        {
            Assert.Throws<WordExpansionException>(() => lexer.ProcessWord(input, env));
        }
        else
        {
            Assert.True(line > 0);
            Assert.Equal(expected, lexer.ProcessWord(input, env));
        }
    }

    [Theory]
    [MemberData(nameof(WordsRows))]
    public void ProcessWords_WordsTestRow_MatchesExpected(int line, string envLines, string input, string expected)
    {
        _ = SharedData.RequireParserCase(WordsTable);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string kv in envLines.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = kv.IndexOf('=', StringComparison.Ordinal);
            env[kv[..eq]] = kv[(eq + 1)..];
        }
        var lexer = new ShellLexer('\\');
        if (expected == "error")
        {
            Assert.Throws<WordExpansionException>(() => lexer.ProcessWords(input, env));
        }
        else
        {
            Assert.True(line > 0);
            Assert.Equal(expected.Split(','), lexer.ProcessWords(input, env));
        }
    }
}
