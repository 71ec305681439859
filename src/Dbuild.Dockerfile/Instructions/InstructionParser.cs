using System.Text.RegularExpressions;

namespace Dbuild.Dockerfile;

/// <summary>Turns AST nodes into typed <see cref="Instruction"/> records, checking arguments and flags like BuildKit.</summary>
public static partial class InstructionParser
{
    /// <summary>Every instruction keyword, upper case.</summary>
    public static IReadOnlyList<string> Keywords { get; } =
        ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

    [GeneratedRegex("^[a-z][a-z0-9-_.]*$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidStageName();

    [GeneratedRegex(@"^\s*ONBUILD\s*", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex OnbuildPrefix();

    /// <summary>Parses every instruction of <paramref name="file"/>.</summary>
    /// <exception cref="DockerfileSyntaxException">An instruction is invalid.</exception>
    public static IReadOnlyList<Instruction> ParseAll(ParsedDockerfile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var list = new List<Instruction>(file.Instructions.Count);
        foreach (Node node in file.Instructions) { list.Add(Parse(node, file)); }
        return list;
    }

    /// <summary>Parses one top-level node of <paramref name="file"/>.</summary>
    /// <exception cref="DockerfileSyntaxException">The instruction is invalid.</exception>
    public static Instruction Parse(Node node, ParsedDockerfile file)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(file);
        var location = new SourceRange(node.StartLine, node.EndLine, node.Column);
        try
        {
            return ParseNode(node, location);
        }
        catch (FormatException ex) when (ex is not DockerfileSyntaxException)
        {
            throw file.Error(node.StartLine, FlagColumn(node, file, ex.Message) ?? node.Column, ex.Message);
        }
    }

    /// <summary>
    /// Points a flag error (unknown flag, bad value) at the flag itself when it is on the instruction's first line:
    /// the flag the message names first ("unknown flag: lnk (did you mean link?)" names lnk, not link).
    /// </summary>
    private static int? FlagColumn(Node node, ParsedDockerfile file, string message)
    {
        if (node.StartLine < 1 || node.StartLine > file.SourceLines.Count) { return null; }
        string line = file.SourceLines[node.StartLine - 1];
        int bestInMessage = int.MaxValue;
        int? column = null;
        foreach (string flag in node.Flags)
        {
            string body = flag.StartsWith("--", StringComparison.Ordinal) ? flag[2..] : flag;
            int eq = body.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? body : body[..eq];
            int inMessage = name.Length == 0 ? -1 : WordIndex(message, name);
            if (inMessage < 0 || inMessage >= bestInMessage) { continue; }
            int at = WordIndex(line, "--" + name);
            if (at < 0) { continue; }
            bestInMessage = inMessage;
            column = at + 1;
        }
        return column;
    }

    /// <summary>The first place <paramref name="word"/> occurs in <paramref name="text"/> not followed by a name character.</summary>
    private static int WordIndex(string text, string word)
    {
        for (int at = text.IndexOf(word, StringComparison.Ordinal); at >= 0;
             at = text.IndexOf(word, at + 1, StringComparison.Ordinal))
        {
            int end = at + word.Length;
            bool startOk = at == 0 || !(char.IsLetterOrDigit(text[at - 1]) || text[at - 1] == '-');
            bool endOk = end == text.Length || !(char.IsLetterOrDigit(text[end]) || text[end] == '-');
            if (startOk && endOk) { return at; }
        }
        return -1;
    }

    private static List<string> Args(Node node)
    {
        var result = new List<string>();
        for (Node? n = node.Next; n is not null; n = n.Next)
        {
            if (n.Children.Count == 0) { result.Add(n.Value); }
            else if (n.Children.Count == 1)
            {
                result.Add(n.Children[0].Value);
                result.Add(n.Children[0].Dump());
            }
        }
        return result;
    }

    private static Instruction ParseNode(Node node, SourceRange location)
    {
        List<string> args = Args(node);
        var flags = new BuilderFlags(node.Flags);
        string keyword = node.Value.ToUpperInvariant();
        switch (node.Value)
        {
            case "from":
                {
                    string? stageName = null, asWritten = null, asKeyword = null;
                    if (args.Count == 3 && args[1].Equals("as", StringComparison.OrdinalIgnoreCase))
                    {
                        stageName = args[2].ToLowerInvariant();
                        asWritten = args[2];
                        asKeyword = args[1];
                        if (!ValidStageName().IsMatch(stageName))
                        {
                            throw new FormatException($"invalid name for build stage: {GoText.Quote(args[2])}, name can't start with a number or contain symbols");
                        }
                    }
                    else if (args.Count != 1)
                    {
                        throw new FormatException("FROM requires either one or three arguments");
                    }
                    flags.String("platform").Parse();
                    return new FromInstruction
                    {
                        Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment,
                        BaseName = args[0], StageName = stageName, StageNameAsWritten = asWritten, AsKeyword = asKeyword,
                        Platform = flags.GetString("platform"),
                    };
                }
            case "run":
                {
                    flags.Strings("mount").String("network").String("security").Parse();
                    IReadOnlyList<string> specs = flags.GetStrings("mount");
                    var mounts = new List<RunMount>(specs.Count);
                    foreach (string spec in specs)
                    {
                        // Values with variables are expanded by the builder; parse them here only to validate the rest.
                        mounts.Add(RunMount.Parse(spec));
                    }
                    return new RunInstruction
                    {
                        Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment,
                        Command = Command(node, args), Mounts = mounts, MountSpecs = specs,
                        Network = flags.GetString("network") switch
                        {
                            null or "default" => NetworkMode.Default,
                            "none" => NetworkMode.None,
                            "host" => NetworkMode.Host,
                            string other => throw new FormatException($"unsupported network mode {GoText.Quote(other)}"),
                        },
                        Security = flags.GetString("security") switch
                        {
                            null or "sandbox" => SecurityMode.Sandbox,
                            "insecure" => SecurityMode.Insecure,
                            string other => throw new FormatException($"unsupported security mode {GoText.Quote(other)}"),
                        },
                        Heredocs = node.Heredocs,
                    };
                }
            case "cmd":
                flags.Parse();
                return new CmdInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Command = Command(node, args) };
            case "entrypoint":
                flags.Parse();
                return new EntrypointInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Command = Command(node, args) };
            case "shell":
                flags.Parse();
                if (args.Count == 0) { throw new FormatException("SHELL requires at least one argument"); }
                if (!node.IsJson) { throw new FormatException("SHELL requires the arguments to be in JSON form"); }
                return new ShellInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Shell = args };
            case "copy":
                {
                    flags.String("from").String("chown").String("chmod").Bool("link").Bool("parents").Strings("exclude").Parse();
                    (List<string> sources, string dest) = SourcesAndDest(args, "COPY");
                    return new CopyInstruction
                    {
                        Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment,
                        Sources = sources, Destination = dest, From = flags.GetString("from"), Chown = flags.GetString("chown"),
                        Chmod = CheckChmod(flags.GetString("chmod")), Link = flags.GetBool("link"), Parents = flags.GetBool("parents"),
                        Excludes = flags.GetStrings("exclude"), Heredocs = node.Heredocs, IsJson = node.IsJson,
                    };
                }
            case "add":
                {
                    flags.String("chown").String("chmod").Bool("link").Bool("parents").Strings("exclude").String("checksum").Bool("keep-git-dir").Bool("unpack").Parse();
                    (List<string> sources, string dest) = SourcesAndDest(args, "ADD");
                    return new AddInstruction
                    {
                        Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment,
                        Sources = sources, Destination = dest, Chown = flags.GetString("chown"), Chmod = CheckChmod(flags.GetString("chmod")),
                        Link = flags.GetBool("link"), Parents = flags.GetBool("parents"), Excludes = flags.GetStrings("exclude"),
                        Checksum = flags.GetString("checksum"), KeepGitDir = flags.GetBool("keep-git-dir"), Unpack = flags.GetOptionalBool("unpack"),
                        Heredocs = node.Heredocs, IsJson = node.IsJson,
                    };
                }
            case "env":
                flags.Parse();
                return new EnvInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Pairs = KeyValues(args, "ENV") };
            case "label":
                flags.Parse();
                return new LabelInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Pairs = KeyValues(args, "LABEL") };
            case "arg":
                {
                    flags.Parse();
                    if (args.Count == 0) { throw new FormatException("ARG requires at least one argument"); }
                    var defs = new List<ArgDefinition>(args.Count);
                    foreach (string arg in args)
                    {
                        int eq = arg.IndexOf('=', StringComparison.Ordinal);
                        defs.Add(eq < 0 ? new ArgDefinition(arg, null) : new ArgDefinition(arg[..eq], arg[(eq + 1)..]));
                    }
                    return new ArgInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Args = defs };
                }
            case "expose":
                flags.Parse();
                if (args.Count == 0) { throw new FormatException("EXPOSE requires at least one argument"); }
                return new ExposeInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Ports = args };
            case "volume":
                flags.Parse();
                if (args.Count == 0) { throw new FormatException("VOLUME requires at least one argument"); }
                if (args.Any(a => GoText.TrimSpace(a).Length == 0)) { throw new FormatException("VOLUME specified can not be an empty string"); }
                return new VolumeInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Volumes = args };
            case "user":
                flags.Parse();
                return new UserInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, User = ExactlyOne(args, "USER") };
            case "workdir":
                flags.Parse();
                return new WorkdirInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Path = ExactlyOne(args, "WORKDIR") };
            case "stopsignal":
                flags.Parse();
                return new StopSignalInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Signal = ExactlyOne(args, "STOPSIGNAL") };
            case "maintainer":
                flags.Parse();
                return new MaintainerInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Maintainer = ExactlyOne(args, "MAINTAINER") };
            case "healthcheck":
                return Healthcheck(node, args, flags, location, keyword);
            case "onbuild":
                {
                    flags.Parse();
                    if (args.Count == 0 || node.Next is not { Children.Count: 1 } holder) { throw new FormatException("ONBUILD requires at least one argument"); }
                    string trigger = GoText.TrimSpace(args[0]).ToUpperInvariant();
                    switch (trigger)
                    {
                        case "ONBUILD": throw new FormatException("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
                        case "MAINTAINER" or "FROM": throw new FormatException($"{trigger} isn't allowed as an ONBUILD trigger");
                    }
                    Node inner = holder.Children[0];
                    inner.StartLine = node.StartLine;
                    inner.EndLine = node.EndLine;
                    inner.Column = node.Column;
                    inner.Heredocs = node.Heredocs;
                    Instruction parsed = ParseNode(inner, location);
                    return new OnbuildInstruction
                    {
                        Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment,
                        Expression = OnbuildPrefix().Replace(node.Original, "", 1), Trigger = parsed,
                    };
                }
            default:
                {
                    string written = node.Keyword.Length > 0 ? node.Keyword : node.Value;
                    throw new FormatException(Suggest.WithSuggestion($"unknown instruction: {written}", written, Keywords, false,
                        m => IsLower(written) ? m.ToLowerInvariant() : m));
                }
        }
    }

    private static bool IsLower(string s) => s.Any(char.IsLetter) && !s.Any(char.IsUpper);

    private static CommandLine Command(Node node, List<string> args) =>
        node.IsJson ? new CommandLine(args, false) : new CommandLine([string.Join(' ', args)], true);

    private static string ExactlyOne(List<string> args, string name) =>
        args.Count == 1 ? args[0] : throw new FormatException($"{name} requires exactly one argument");

    private static string? CheckChmod(string? chmod)
    {
        if (chmod is null || chmod.Contains('$', StringComparison.Ordinal)) { return chmod; }
        return FileMode.TryParse(chmod, out _) ? chmod
            : throw new FormatException($"invalid chmod parameter {GoText.Quote(chmod)}: use an octal mode (0755) or a symbolic one (u=rwx,go=rx)");
    }

    private static (List<string> Sources, string Destination) SourcesAndDest(List<string> args, string name)
    {
        if (args.Count < 2)
        {
            throw new FormatException(args.Count == 0
                ? $"{name} requires at least two arguments"
                : $"{name} requires at least two arguments, but only one was provided. Destination could not be determined.");
        }
        return (args[..^1], args[^1]);
    }

    private static List<KeyValue> KeyValues(List<string> args, string name)
    {
        if (args.Count == 0) { throw new FormatException($"{name} requires at least one argument"); }
        if (args.Count % 3 != 0) { throw new FormatException($"Bad input to {name}, too many arguments"); }
        var pairs = new List<KeyValue>(args.Count / 3);
        for (int i = 0; i < args.Count; i += 3)
        {
            if (args[i].Length == 0) { throw new FormatException($"{name} names can not be blank"); }
            pairs.Add(new KeyValue(args[i], args[i + 1], args[i + 2].Length == 0));
        }
        return pairs;
    }

    private static HealthcheckInstruction Healthcheck(Node node, List<string> args, BuilderFlags flags, SourceRange location, string keyword)
    {
        if (args.Count == 0) { throw new FormatException("HEALTHCHECK requires at least one argument"); }
        string type = args[0].ToUpperInvariant();
        List<string> rest = args[1..];
        if (type == "NONE")
        {
            if (rest.Count != 0) { throw new FormatException("HEALTHCHECK NONE takes no arguments"); }
            flags.Parse();
            return new HealthcheckInstruction { Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Test = ["NONE"] };
        }
        flags.String("interval").String("timeout").String("start-period").String("start-interval").String("retries").Parse();
        if (type != "CMD") { throw new FormatException($"Unknown type \"{args[0]}\" in HEALTHCHECK (try CMD)"); }
        CommandLine cmd = Command(node, rest);
        if (rest.Count == 0 || (cmd.PrependShell && cmd.Arguments[0].Length == 0)) { throw new FormatException("Missing command after HEALTHCHECK CMD"); }
        List<string> test = [node.IsJson ? "CMD" : "CMD-SHELL", .. cmd.Arguments];
        int retries = 0;
        if (flags.GetString("retries") is { Length: > 0 } r)
        {
            if (!int.TryParse(r, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out retries))
            {
                throw new FormatException($"strconv.ParseInt: parsing {GoText.Quote(r)}: invalid syntax");
            }
            if (retries < 0) { throw new FormatException($"--retries cannot be negative ({retries})"); }
        }
        return new HealthcheckInstruction
        {
            Keyword = keyword, Location = location, Original = node.Original, Comments = node.PrevComment, Test = test,
            Interval = Interval(flags, "interval"), Timeout = Interval(flags, "timeout"), StartPeriod = Interval(flags, "start-period"),
            StartInterval = Interval(flags, "start-interval"), Retries = retries,
        };
    }

    private static TimeSpan Interval(BuilderFlags flags, string name)
    {
        string? s = flags.GetString(name);
        if (string.IsNullOrEmpty(s)) { return TimeSpan.Zero; }
        TimeSpan d = GoDuration.Parse(s);
        if (d == TimeSpan.Zero) { return d; }
        if (d < TimeSpan.FromMilliseconds(1)) { throw new FormatException($"Interval \"{name}\" cannot be less than 1ms"); }
        return d;
    }
}
