using Dbuild.Fuzz;
using SharpFuzz;

// dotnet Dbuild.Fuzz.dll TARGET          run under afl-fuzz (fuzz/run.sh): one input per iteration on stdin
// dotnet Dbuild.Fuzz.dll TARGET FILE...  replay inputs outside afl-fuzz, printing each outcome (a crash rethrows)
if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out Action<byte[]>? target))
{
    await Console.Error.WriteLineAsync($"usage: Dbuild.Fuzz TARGET [FILE...]; TARGET is one of: {string.Join(", ", FuzzTargets.All.Keys)}");
    return 2;
}
if (args.Length > 1)
{
    foreach (string file in args.Skip(1))
    {
        target(await File.ReadAllBytesAsync(file));
        Console.WriteLine($"{file}: ok");
    }
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
