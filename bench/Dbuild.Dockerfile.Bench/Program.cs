using System.Diagnostics;
using System.Globalization;
using Dbuild.Dockerfile;

// Parses the whole Dockerfile corpus on one core, several times, and prints the best and median wall time.
// Usage: Dbuild.Dockerfile.Bench [corpus-dir] [rounds]
string corpus = args.Length > 0 ? args[0] : FindCorpus();
int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15;
Process.GetCurrentProcess().ProcessorAffinity = 1; // one core

// Read every file first: the figure is parsing, not disk.
var files = Directory.EnumerateFiles(corpus, "Dockerfile", SearchOption.AllDirectories)
    .Order(StringComparer.Ordinal)
    .Select(path => (Name: Path.GetFileName(path), Bytes: File.ReadAllBytes(path)))
    .ToList();
long totalBytes = files.Sum(f => (long)f.Bytes.Length);

// Warm-up round (JIT).
int instructions = 0;
foreach ((string name, byte[] bytes) in files) { instructions += DockerfileParser.Parse(bytes, name).Instructions.Count; }

var parseTimes = new List<double>();
var fullTimes = new List<double>();
for (int round = 0; round < rounds; round++)
{
    var watch = Stopwatch.StartNew();
    foreach ((string name, byte[] bytes) in files) { _ = DockerfileParser.Parse(bytes, name); }
    parseTimes.Add(watch.Elapsed.TotalMilliseconds);

    watch.Restart();
    foreach ((string name, byte[] bytes) in files)
    {
        ParsedDockerfile parsed = DockerfileParser.Parse(bytes, name);
        _ = parsed.Dump();
        try { _ = InstructionParser.ParseAll(parsed); }
        catch (DockerfileSyntaxException) { /* a few builder test inputs are invalid on purpose */ }
    }
    fullTimes.Add(watch.Elapsed.TotalMilliseconds);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"corpus: {files.Count} files, {totalBytes / 1024.0 / 1024.0:F2} MiB, {instructions} instructions, {rounds} rounds, 1 core"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"parse (AST):                  best {parseTimes.Min():F1} ms, median {Median(parseTimes):F1} ms for the whole corpus"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"parse + dump + instructions:  best {fullTimes.Min():F1} ms, median {Median(fullTimes):F1} ms for the whole corpus"));

static string FindCorpus()
{
    string? env = Environment.GetEnvironmentVariable("DBUILD_SHARED");
    if (env is not null) { return Path.Combine(env, "dockerfile-corpus"); }
    for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "..", "shared", "dockerfile-corpus");
        if (Directory.Exists(candidate)) { return Path.GetFullPath(candidate); }
        candidate = Path.Combine(dir.FullName, "shared", "dockerfile-corpus");
        if (Directory.Exists(candidate)) { return Path.GetFullPath(candidate); }
    }
    throw new DirectoryNotFoundException("dockerfile-corpus not found; pass its path or set DBUILD_SHARED.");
}
