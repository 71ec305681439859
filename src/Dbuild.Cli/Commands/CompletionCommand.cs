using System.CommandLine;
using System.Text;

namespace Dbuild.Cli.Commands;

/// <summary>
/// <c>dbuild completion bash|zsh|fish</c>: a completion script for the shell, generated from the command tree itself
/// (verbs, subcommands and each command's flags), e.g. <c>source &lt;(dbuild completion bash)</c>.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create()
    {
        Argument<string> shell = new("shell") { Description = "bash, zsh or fish." };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("completion", "Print a shell completion script (bash, zsh or fish).") { shell };
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(parseResult, token =>
        {
            Command root = parseResult.RootCommandResult.Command;
            Console.Write(parseResult.GetRequiredValue(shell) switch
            {
                "bash" => Bash(root),
                "zsh" => "#compdef dbuild\n# zsh completion for dbuild: the bash functions through bashcompinit.\nautoload -U +X bashcompinit && bashcompinit\n" + Bash(root),
                _ => Fish(root),
            });
            return Task.FromResult(ExitCodes.Ok);
        }, cancellationToken));
        return command;
    }

    /// <summary>Every command path ("" for dbuild itself, "builder prune", …) with its command and the flags it takes.</summary>
    private static List<(string Path, Command Command, List<string> Flags)> Walk(Command root)
    {
        var result = new List<(string, Command, List<string>)>();
        void Visit(Command command, string path, IReadOnlyList<Option> inherited)
        {
            IReadOnlyList<Option> recursive = [.. inherited, .. command.Options.Where(o => o.Recursive)];
            List<string> flags = [.. command.Options.Concat(inherited).Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Distinct().Order(StringComparer.Ordinal)];
            result.Add((path, command, flags));
            foreach (Command sub in command.Subcommands.Where(c => !c.Hidden)) { Visit(sub, path.Length == 0 ? sub.Name : $"{path} {sub.Name}", recursive); }
        }
        Visit(root, "", []);
        return result;
    }

    private static string Subcommands(Command command) => string.Join(' ', command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));

    internal static string Bash(Command root)
    {
        var paths = Walk(root);
        var text = new StringBuilder("""
            # bash completion for dbuild; load it with: source <(dbuild completion bash)
            _dbuild_subcommands() {
                case "$1" in

            """);
        foreach (var (path, command, _) in paths.Where(p => p.Command.Subcommands.Count > 0)) { text.Append($"        \"{path}\") echo \"{Subcommands(command)}\" ;;\n"); }
        text.Append("    esac\n}\n_dbuild_flags() {\n    case \"$1\" in\n");
        foreach (var (path, _, flags) in paths) { text.Append($"        \"{path}\") echo \"{string.Join(' ', flags)}\" ;;\n"); }
        text.Append("""
                esac
            }
            _dbuild() {
                local cur="${COMP_WORDS[COMP_CWORD]}" path="" word i
                for ((i = 1; i < COMP_CWORD; i++)); do
                    word="${COMP_WORDS[i]}"
                    [[ "$word" == -* ]] && continue
                    [[ " $(_dbuild_subcommands "$path") " == *" $word "* ]] && path="${path:+$path }$word"
                done
                if [[ "$cur" == -* ]]; then
                    COMPREPLY=($(compgen -W "$(_dbuild_flags "$path")" -- "$cur"))
                else
                    COMPREPLY=($(compgen -W "$(_dbuild_subcommands "$path")" -- "$cur"))
                fi
            }
            complete -o default -F _dbuild dbuild

            """);
        return text.ToString();
    }

    internal static string Fish(Command root)
    {
        var paths = Walk(root);
        var text = new StringBuilder("""
            # fish completion for dbuild; load it with: dbuild completion fish | source
            function __dbuild_subcommands
                switch "$argv[1]"

            """);
        foreach (var (path, command, _) in paths.Where(p => p.Command.Subcommands.Count > 0)) { text.Append($"        case '{path}'\n            echo {Subcommands(command)}\n"); }
        text.Append("""
                end
            end
            function __dbuild_path
                set -l path ''
                for word in (commandline -opc)[2..-1]
                    string match -q -- '-*' $word; and continue
                    if contains -- $word (string split ' ' -- (__dbuild_subcommands "$path"))
                        set path (string trim -- "$path $word")
                    end
                end
                echo $path
            end
            complete -c dbuild -f

            """);
        foreach (var (path, command, _) in paths)
        {
            string when = $"-n 'test \"(__dbuild_path)\" = \"{path}\"'";
            foreach (Command sub in command.Subcommands.Where(c => !c.Hidden))
            {
                text.Append($"complete -c dbuild {when} -a '{sub.Name}' -d '{Quote(sub.Description)}'\n");
            }
            foreach (Option option in command.Options.Where(o => !o.Hidden))
            {
                string names = string.Join(' ', option.Aliases.Prepend(option.Name).Distinct().Select(n => n.StartsWith("--", StringComparison.Ordinal) ? $"-l {n[2..]}" : $"-s {n[1..]}"));
                string scope = option.Recursive ? "" : when + " ";
                text.Append($"complete -c dbuild {scope}{names} -d '{Quote(option.Description)}'\n");
            }
        }
        return text.ToString();
    }

    private static string Quote(string? text) => (text ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);
}
