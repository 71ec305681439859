namespace Dbuild.Runtime;

/// <summary>The echo of the terminal on stdin, turned off while a password is typed (as docker's login does with term.DisableEcho).</summary>
public static class TerminalEcho
{
    /// <summary>Turns stdin's echo on or off; false when stdin is no terminal.</summary>
    public static bool TrySet(bool echo) => Interop.TrySetTerminalEcho(0, echo);
}
