using System.Runtime.InteropServices;

namespace Dbuild.Runtime;

internal static partial class Interop
{
    // struct termios on Linux (x86-64, arm64): c_iflag, c_oflag, c_cflag, c_lflag (uint32 each), c_line, c_cc[32],
    // c_ispeed, c_ospeed: 60 bytes; c_lflag is at offset 12 and ECHO is its 0x8 bit.
    private const int TermiosSize = 64, LocalFlagsOffset = 12;
    private const uint Echo = 0x8;
    private const int TcsaNow = 0;

    [LibraryImport(Libc, EntryPoint = "tcgetattr", SetLastError = true)]
    private static unsafe partial int TcGetAttrNative(int fd, byte* termios);

    [LibraryImport(Libc, EntryPoint = "tcsetattr", SetLastError = true)]
    private static unsafe partial int TcSetAttrNative(int fd, int optionalActions, byte* termios);

    /// <summary>Turns the terminal's echo on <paramref name="fd"/> on or off; false when it is no terminal.</summary>
    internal static unsafe bool TrySetTerminalEcho(int fd, bool echo)
    {
        byte* termios = stackalloc byte[TermiosSize];
        if (TcGetAttrNative(fd, termios) != 0) { return false; }
        uint* localFlags = (uint*)(termios + LocalFlagsOffset);
        *localFlags = echo ? *localFlags | Echo : *localFlags & ~Echo;
        return TcSetAttrNative(fd, TcsaNow, termios) == 0;
    }
}
