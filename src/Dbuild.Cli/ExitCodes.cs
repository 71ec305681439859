namespace Dbuild.Cli;

/// <summary>Process exit codes, documented in README.md.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>The operation failed (build step failed, registry refused, check fired).</summary>
    public const int Failed = 1;
    /// <summary>Bad usage or invalid input (unknown flag, malformed reference, Dockerfile syntax error).</summary>
    public const int Usage = 2;
    /// <summary>Cancelled (Ctrl+C).</summary>
    public const int Cancelled = 130;
}
