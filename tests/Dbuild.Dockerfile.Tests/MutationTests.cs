using System.Diagnostics;
using System.Text;
using Dbuild.Testing;

namespace Dbuild.Dockerfile.Tests;

/// <summary>Random edits of corpus files: each parse gives a result or a syntax error, never anything else, and is fast.</summary>
[Collection(nameof(TimingGroup))]
public sealed class MutationTests
{
    private static readonly string[] Insertions = ["\"", "'", "\\", "<<", "<<EOF", "<<-'X'", "[", "]", "`", "$", "${", "--", "\n", "\r\n", "#", " ", "\t", "{"];

    [Fact]
    public void Parse_RandomEdits_OnlySyntaxErrorsAndFast()
    {
        string corpus = SharedData.RequireCorpus();
        var random = new Random(20260806);
        string[] files = [.. SharedData.CorpusFiles()];
        int parsed = 0, syntaxErrors = 0, mutations = 0;
        double slowestMs = 0;
        string slowest = "";
        var failures = new List<string>();
        foreach (string relative in files.Take(50))
        {
            // JIT every path before timing anything.
            _ = InstructionParser.ParseAll(DockerfileParser.ParseFile(Path.Combine(corpus, relative)));
        }
        var total = Stopwatch.StartNew();
        foreach (string relative in files)
        {
            string original = File.ReadAllText(Path.Combine(corpus, relative));
            for (int round = 0; round < 2; round++)
            {
                string mutated = Mutate(original, random);
                mutations++;
                double ms = double.MaxValue;
                // A slow run is timed again (at most three times) so a GC pause or a busy CPU is not taken for the parser.
                for (int attempt = 0; attempt < 3 && ms > 100; attempt++)
                {
                    long start = Stopwatch.GetTimestamp();
                    bool ok = Attempt(mutated, relative, round, failures, attempt == 0);
                    ms = Math.Min(ms, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    if (attempt == 0) { if (ok) { parsed++; } else { syntaxErrors++; } }
                }
                if (ms > slowestMs)
                {
                    slowestMs = ms;
                    slowest = relative;
                }
            }
        }
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{mutations} mutations: {parsed} parsed, {syntaxErrors} syntax errors, slowest {slowestMs:F1} ms ({slowest}), total {total.ElapsedMilliseconds} ms");
        Assert.True(mutations >= 2000);
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(5)));
        Assert.True(slowestMs < 100, $"slowest parse took {slowestMs:F1} ms on a mutation of {slowest}");
        Assert.True(parsed > 0 && syntaxErrors > 0);
    }

    private static bool Attempt(string mutated, string relative, int round, List<string> failures, bool record)
    {
        try
        {
            ParsedDockerfile result = DockerfileParser.Parse(mutated);
            _ = result.Dump();
            _ = InstructionParser.ParseAll(result);
            return true;
        }
        catch (DockerfileSyntaxException)
        {
            return false;
        }
        catch (Exception ex) when (record)
        {
            failures.Add($"{relative} round {round}: {ex}");
            return false;
        }
    }

    private static string Mutate(string text, Random random)
    {
        string[] lines = text.Split('\n');
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int kind = random.Next(5);
            switch (kind)
            {
                case 0 when lines.Length > 1:
                    {
                        int drop = random.Next(lines.Length);
                        lines = [.. lines[..drop], .. lines[(drop + 1)..]];
                        break;
                    }
                case 1:
                    {
                        int i = random.Next(lines.Length);
                        lines = [.. lines[..(i + 1)], lines[i], .. lines[(i + 1)..]];
                        break;
                    }
                case 2:
                    {
                        string joined = string.Join('\n', lines);
                        byte[] bytes = Encoding.UTF8.GetBytes(joined);
                        int cut = random.Next(bytes.Length + 1);
                        lines = Encoding.UTF8.GetString(bytes, 0, cut).Split('\n');
                        break;
                    }
                default:
                    {
                        int i = random.Next(lines.Length);
                        string line = lines[i];
                        int at = random.Next(line.Length + 1);
                        lines[i] = line[..at] + Insertions[random.Next(Insertions.Length)] + line[at..];
                        break;
                    }
            }
        }
        return string.Join('\n', lines);
    }
}
