using System.Text;
using Dbuild.Runtime;

namespace Dbuild.Cli;

/// <summary>
/// Questions on a terminal, asked as docker's login asks them: the prompt on stdout, the answer a line of stdin read
/// straight from the terminal (not through Console.In, whose line editor echoes a second time), and for a password the
/// terminal's echo turned off (tcsetattr) before the prompt appears and back on after.
/// </summary>
internal static class TerminalPrompt
{
    /// <summary>True when stdin is a terminal (not a pipe or a file).</summary>
    public static bool IsInteractive => !Console.IsInputRedirected;

    public static string ReadLine(string prompt)
    {
        Console.Out.Write(prompt);
        Console.Out.Flush();
        return ReadTerminalLine().Trim();
    }

    public static string ReadHidden(string prompt)
    {
        TerminalEcho.TrySet(echo: false);
        try
        {
            Console.Out.Write(prompt);
            Console.Out.Flush();
            return ReadTerminalLine();
        }
        finally
        {
            TerminalEcho.TrySet(echo: true);
            Console.Out.WriteLine();
        }
    }

    private static string ReadTerminalLine()
    {
        // fd 0 itself: Console.OpenStandardInput on a terminal reads through .NET's line editor, which echoes by itself.
        using var stdin = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        var line = new List<byte>();
        int next;
        while ((next = stdin.ReadByte()) >= 0 && next != '\n') { line.Add((byte)next); }
        return Encoding.UTF8.GetString([.. line]).TrimEnd('\r');
    }
}
