namespace Dbuild.Runtime;

/// <summary>A step's process exited non-zero (or was killed by a signal). Carries the command, code and last output lines.</summary>
public sealed class StepFailedException : Exception
{
    public StepFailedException(string command, int exitCode, IReadOnlyList<string> lastLines)
        : base(FormatMessage(command, exitCode, lastLines))
    {
        Command = command;
        ExitCode = exitCode;
        LastLines = lastLines;
    }

    /// <summary>The step as shown to the user, e.g. <c>/bin/sh -c make</c>.</summary>
    public string Command { get; }

    /// <summary>The exit code; 128+N when killed by signal N.</summary>
    public int ExitCode { get; }

    /// <summary>Up to the last 20 output lines (stdout and stderr interleaved).</summary>
    public IReadOnlyList<string> LastLines { get; }

    private static string FormatMessage(string command, int exitCode, IReadOnlyList<string> lastLines)
    {
        string message = $"process \"{command}\" did not complete successfully: exit code: {exitCode}";
        return lastLines.Count == 0 ? message : message + "\n" + string.Join('\n', lastLines);
    }
}
