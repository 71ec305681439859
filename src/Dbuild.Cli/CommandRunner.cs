using System.CommandLine;

namespace Dbuild.Cli;

/// <summary>The one place where exceptions become an exit code and a one-line error on stderr.</summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(ParseResult parseResult, Func<CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        bool debug = parseResult.GetValue(GlobalOptions.Debug);
        try
        {
            return await action(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("dbuild: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or UsageException)
        {
            await WriteErrorAsync(ex, debug);
            return ExitCodes.Usage;
        }
        catch (Exception ex)
        {
            await WriteErrorAsync(ex, debug);
            return ExitCodes.Failed;
        }
    }

    private static Task WriteErrorAsync(Exception ex, bool debug) =>
        Console.Error.WriteLineAsync(debug ? $"error: {ex}" : $"error: {ex.Message.ReplaceLineEndings(" ")}");
}

/// <summary>Thrown by a verb for a usage error that the parser could not catch.</summary>
internal sealed class UsageException(string message) : Exception(message);
