using System.Globalization;
using System.Text.RegularExpressions;

namespace Dbuild.Dockerfile;

/// <summary>A <c>--chmod</c> value: octal (<c>0755</c>) or symbolic (<c>u=rwx,go=rx</c>, <c>+x</c>).</summary>
public sealed partial record FileMode
{
    private FileMode(uint? octal, string? symbolic) => (Octal, Symbolic) = (octal, symbolic);

    /// <summary>The octal mode, or null for a symbolic one.</summary>
    public uint? Octal { get; }

    /// <summary>The symbolic clauses, or null for an octal mode.</summary>
    public string? Symbolic { get; }

    [GeneratedRegex(@"^[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+(?:,[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex SymbolicRegex();

    /// <summary>Parses an expanded <c>--chmod</c> value.</summary>
    public static bool TryParse(string? value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FileMode? mode)
    {
        mode = null;
        if (string.IsNullOrEmpty(value)) { return false; }
        if (value.All(char.IsAsciiDigit))
        {
            if (value.Any(c => c > '7') || !uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _)) { return false; }
            uint octal = Convert.ToUInt32(value, 8);
            if (octal > 0xFFFF_FFFF / 1) { return false; }
            mode = new FileMode(octal, null);
            return true;
        }
        if (!SymbolicRegex().IsMatch(value)) { return false; }
        mode = new FileMode(null, value);
        return true;
    }

    /// <summary>Applies the mode to an existing permission set (symbolic modes need it; octal ignores it).</summary>
    public uint Apply(uint existing, bool isDirectory)
    {
        if (Octal is { } o) { return o; }
        uint mode = existing & 0xFFF;
        foreach (string clause in Symbolic!.Split(','))
        {
            int i = 0;
            uint who = 0;
            while (i < clause.Length && clause[i] is 'u' or 'g' or 'o' or 'a')
            {
                who |= clause[i] switch { 'u' => 0b100u, 'g' => 0b010u, 'o' => 0b001u, _ => 0b111u };
                i++;
            }
            if (who == 0) { who = 0b111; }
            while (i < clause.Length)
            {
                char op = clause[i++];
                uint perm = 0;
                uint special = 0;
                while (i < clause.Length && clause[i] is not ('+' or '-' or '='))
                {
                    char p = clause[i++];
                    switch (p)
                    {
                        case 'r': perm |= 4; break;
                        case 'w': perm |= 2; break;
                        case 'x': perm |= 1; break;
                        case 'X': if (isDirectory || (mode & 0b001_001_001) != 0) { perm |= 1; } break;
                        case 's': special |= ((who & 0b100) != 0 ? 0x800u : 0) | ((who & 0b010) != 0 ? 0x400u : 0); break;
                        case 't': special |= 0x200; break;
                        case 'u': perm |= (mode >> 6) & 7; break;
                        case 'g': perm |= (mode >> 3) & 7; break;
                        case 'o': perm |= mode & 7; break;
                    }
                }
                uint mask = 0;
                if ((who & 0b100) != 0) { mask |= perm << 6; }
                if ((who & 0b010) != 0) { mask |= perm << 3; }
                if ((who & 0b001) != 0) { mask |= perm; }
                mask |= special;
                switch (op)
                {
                    case '+': mode |= mask; break;
                    case '-': mode &= ~mask; break;
                    case '=':
                        uint clear = 0;
                        if ((who & 0b100) != 0) { clear |= 0x1C0 | 0x800; }
                        if ((who & 0b010) != 0) { clear |= 0x038 | 0x400; }
                        if ((who & 0b001) != 0) { clear |= 0x007; }
                        mode = (mode & ~clear) | mask;
                        break;
                }
            }
        }
        return mode;
    }
}
