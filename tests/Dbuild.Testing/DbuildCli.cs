namespace Dbuild.Testing;

/// <summary>Runs the real <c>dbuild</c> executable (the Dbuild.Cli build output) from tests.</summary>
public static class DbuildCli
{
    /// <summary>
    /// dbuild.dll in Dbuild.Cli's own output folder (artifacts/bin/Dbuild.Cli/&lt;config&gt;/), whose deps.json and
    /// runtimeconfig.json are its own; the copy beside a test assembly resolves assemblies through the test's files.
    /// </summary>
    public static string DllPath { get; } = Locate();

    /// <summary>Runs <c>dotnet dbuild.dll ARGS</c> and returns the finished process.</summary>
    public static Task<ProcessResult> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null, string? standardInput = null, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync("dotnet", [DllPath, .. arguments], cancellationToken, environment, workingDirectory, standardInput, timeout);

    /// <summary>
    /// Runs <c>LAUNCHER… dotnet dbuild.dll ARGS</c>, e.g. with <c>["taskset", "-c", "0"]</c> to confine dbuild to one CPU.
    /// </summary>
    public static Task<ProcessResult> RunUnderAsync(IReadOnlyList<string> launcher, IEnumerable<string> arguments, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(launcher[0], [.. launcher.Skip(1), "dotnet", DllPath, .. arguments], cancellationToken, environment, timeout: timeout);

    private static string Locate()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string own = Path.Combine(testOutput.Parent!.Parent!.FullName, "Dbuild.Cli", testOutput.Name, "dbuild.dll");
        if (File.Exists(own)) { return own; }
        string beside = Path.Combine(AppContext.BaseDirectory, "dbuild.dll");
        return File.Exists(beside) ? beside : throw new FileNotFoundException($"dbuild.dll not found at {own} or {beside}; build Dbuild.Cli first.");
    }
}
