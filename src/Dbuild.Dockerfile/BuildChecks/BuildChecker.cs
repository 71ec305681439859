using System.Text.RegularExpressions;

namespace Dbuild.Dockerfile;

/// <summary>BuildKit's 22 build checks (lint rules) over a parsed Dockerfile.</summary>
public static partial class BuildChecker
{
    private static readonly HashSet<string> SecretTokens = new(StringComparer.Ordinal)
        { "apikey", "auth", "credential", "credentials", "key", "password", "pword", "passwd", "secret", "token" };

    [GeneratedRegex(@"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$", RegexOptions.CultureInvariant)]
    private static partial Regex ReferenceRegex();

    [GeneratedRegex("[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", RegexOptions.CultureInvariant)]
    private static partial Regex KeyTokens();

    /// <summary>Runs every enabled rule.</summary>
    /// <exception cref="DockerfileSyntaxException">The Dockerfile itself is invalid.</exception>
    public static BuildCheckReport Run(ParsedDockerfile file, BuildCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        options ??= new BuildCheckOptions();
        string? configText = options.Build.BuildArgs.TryGetValue("BUILDKIT_DOCKERFILE_CHECK", out string? fromArg) ? fromArg : file.GetDirective("check");
        BuildCheckConfig config;
        try
        {
            config = BuildCheckConfig.Parse(configText);
        }
        catch (FormatException ex)
        {
            int line = file.Directives.FirstOrDefault(d => d.Name == "check")?.Line ?? 0;
            throw file.Error(line, 1, ex.Message);
        }
        var checks = new List<BuildCheck>();
        void Fire(BuildCheckRule rule, int line, int endLine, string message)
        {
            if (config.IsEnabled(rule)) { checks.Add(new BuildCheck(rule, message, file.FileName, line, endLine)); }
        }
        void FireAt(BuildCheckRule rule, Instruction at, string message) => Fire(rule, at.Location.StartLine, at.Location.EndLine, message);

        foreach (ParseWarning warning in file.Warnings)
        {
            if (warning.Message.StartsWith("Empty continuation line", StringComparison.Ordinal))
            {
                Fire(BuildCheckRule.NoEmptyContinuation, warning.Line, warning.Line, "Empty continuation line");
            }
        }
        CheckCasing(file, Fire);

        DockerfileModel model = DockerfileModel.Create(file, options.Build);
        var lexer = new ShellLexer(file.EscapeToken);
        IReadOnlyDictionary<string, string> platformArgs = options.Build.PlatformArgs();

        // Global scope: declared names (with default values only, build args ignored) for FROM checks.
        var declared = new Dictionary<string, string>(platformArgs, StringComparer.Ordinal);
        foreach (ArgInstruction arg in model.MetaArgs)
        {
            foreach (ArgDefinition def in arg.Args)
            {
                CheckSecret(arg, def.Name, "ARG", FireAt);
                declared[def.Name] = def.DefaultValue is null ? "" : SafeExpand(lexer, def.DefaultValue, declared);
            }
            CheckDescription(arg, FireAt);
        }

        var seenNames = new HashSet<string>(StringComparer.Ordinal);
        var absoluteWorkdir = new Dictionary<int, bool>();
        var customShell = new Dictionary<int, bool>();
        foreach (Stage stage in model.Stages)
        {
            FromInstruction from = stage.From;
            if (from.StageNameAsWritten is { } written)
            {
                if (!IsLower(written)) { FireAt(BuildCheckRule.StageNameCasing, from, $"Stage name '{written}' should be lowercase"); }
                string fromWord = FromKeyword(from);
                if (from.AsKeyword is { } asWord && IsConsistent(fromWord) && IsConsistent(asWord) && IsUpper(fromWord) != IsUpper(asWord))
                {
                    FireAt(BuildCheckRule.FromAsCasing, from, $"'{asWord}' and '{fromWord}' keywords' casing do not match");
                }
                if (!seenNames.Add(from.StageName!)) { FireAt(BuildCheckRule.DuplicateStageName, from, $"Duplicate stage name \"{from.StageName}\", stage names should be unique"); }
                if (from.StageName is "scratch" or "context") { FireAt(BuildCheckRule.ReservedStageName, from, $"Stage name should not use the same name as reserved stage \"{from.StageName}\""); }
                CheckDescription(from, FireAt);
            }
            bool undefinedInFrom = false;
            foreach (string word in new[] { from.BaseName, from.Platform }.OfType<string>())
            {
                foreach (string name in Unmatched(lexer, word, declared))
                {
                    undefinedInFrom = true;
                    FireAt(BuildCheckRule.UndefinedArgInFrom, from,
                        Suggest.WithSuggestion($"FROM argument '{name}' is not declared", name, declared.Keys, true));
                }
            }
            if (from.Platform is { } platform)
            {
                if (platform is "$TARGETPLATFORM" or "${TARGETPLATFORM}")
                {
                    FireAt(BuildCheckRule.RedundantTargetPlatform, from, $"Setting platform to predefined {platform} in FROM is redundant as this is the default behavior");
                }
                else if (!platform.Contains('$', StringComparison.Ordinal) && !NamedForPlatform(from.StageName, platform))
                {
                    FireAt(BuildCheckRule.FromPlatformFlagConstDisallowed, from, $"FROM --platform flag should not use constant value \"{platform}\"");
                }
            }
            if (!undefinedInFrom && from.BaseName.Contains('$', StringComparison.Ordinal))
            {
                string withDefaults = SafeExpand(lexer, from.BaseName, declared);
                bool isStage = model.Stages.Any(s => s.Index < stage.Index && string.Equals(s.Name, withDefaults, StringComparison.OrdinalIgnoreCase));
                if (withDefaults.Length == 0 || (!isStage && !withDefaults.Equals("scratch", StringComparison.OrdinalIgnoreCase) && !ReferenceRegex().IsMatch(withDefaults)))
                {
                    FireAt(BuildCheckRule.InvalidDefaultArgInFrom, from, $"Default value for ARG {from.BaseName} results in empty or invalid base image name");
                }
            }
            if (stage.BaseStage is null && !stage.IsScratch && options.ImagePlatform?.Invoke(stage.BaseName) is { } pulled)
            {
                string expected = stage.Platform ?? options.Build.TargetPlatform;
                if (!PlatformMatches(pulled, expected))
                {
                    FireAt(BuildCheckRule.InvalidBaseImagePlatform, from, $"Base image {stage.BaseName} was pulled with platform \"{pulled}\", expected \"{expected}\" for current build");
                }
            }
            CheckStage(model, stage, options, absoluteWorkdir, customShell, FireAt);
        }
        return new BuildCheckReport([.. checks.OrderBy(c => c.Line)], config);
    }

    private static void CheckStage(DockerfileModel model, Stage stage, BuildCheckOptions options,
        Dictionary<int, bool> absoluteWorkdir, Dictionary<int, bool> customShell, Action<BuildCheckRule, Instruction, string> fire)
    {
        IReadOnlyDictionary<string, string>? baseEnv = RootEnvironment(stage, options, out bool known);
        IReadOnlyList<EvaluatedInstruction> evaluated = model.Evaluate(stage, baseEnv);
        bool workdirSet = stage.BaseStage is not null && absoluteWorkdir.GetValueOrDefault(stage.BaseStage.Index);
        // With a SHELL of its own the stage chose shell form on purpose (BuildKit then skips JSONArgsRecommended).
        bool shellSet = stage.BaseStage is not null && customShell.GetValueOrDefault(stage.BaseStage.Index);
        var lastOf = new Dictionary<string, Instruction>(StringComparer.Ordinal);
        foreach (EvaluatedInstruction step in evaluated)
        {
            Instruction ins = step.Instruction;
            if (known)
            {
                var candidates = step.Environment.Keys.Concat(step.BuildArgs.Keys).ToList();
                foreach (string name in step.UndefinedVariables)
                {
                    fire(BuildCheckRule.UndefinedVar, ins, Suggest.WithSuggestion($"Usage of undefined variable '${name}'", name, candidates, true, m => "$" + m));
                }
            }
            switch (ins)
            {
                case CmdInstruction or EntrypointInstruction or HealthcheckInstruction:
                    if (lastOf.TryGetValue(ins.Keyword, out Instruction? previous))
                    {
                        fire(BuildCheckRule.MultipleInstructionsDisallowed, previous, $"Multiple {ins.Keyword} instructions should not be used in the same stage because only the last one will be used");
                    }
                    lastOf[ins.Keyword] = ins;
                    if (!shellSet && ins is CmdInstruction { Command.PrependShell: true } or EntrypointInstruction { Command.PrependShell: true })
                    {
                        fire(BuildCheckRule.JsonArgsRecommended, ins, $"JSON arguments recommended for {ins.Keyword} to prevent unintended behavior related to OS signals");
                    }
                    break;
                case ShellInstruction:
                    shellSet = true;
                    break;
                case MaintainerInstruction:
                    fire(BuildCheckRule.MaintainerDeprecated, ins, "Maintainer instruction is deprecated in favor of using label");
                    break;
                case WorkdirInstruction w:
                    bool absolute = w.Path.StartsWith('/') || (w.Path.Length >= 2 && char.IsAsciiLetter(w.Path[0]) && w.Path[1] == ':') || w.Path.StartsWith('\\');
                    if (absolute) { workdirSet = true; }
                    else if (!workdirSet) { fire(BuildCheckRule.WorkdirRelativePath, ins, $"Relative workdir \"{w.Path}\" can have unexpected results if the base image changes"); }
                    break;
                case EnvInstruction e:
                    if (e.Pairs.Any(p => p.NoDelimiter)) { fire(BuildCheckRule.LegacyKeyValueFormat, ins, "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format"); }
                    foreach (KeyValue p in e.Pairs) { CheckSecret(ins, p.Key, "ENV", fire); }
                    break;
                case LabelInstruction l:
                    if (l.Pairs.Any(p => p.NoDelimiter)) { fire(BuildCheckRule.LegacyKeyValueFormat, ins, "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format"); }
                    break;
                case ArgInstruction a:
                    foreach (ArgDefinition d in a.Args) { CheckSecret(ins, d.Name, "ARG", fire); }
                    CheckDescription(a, fire);
                    break;
                case ExposeInstruction x:
                    foreach (string port in x.Ports)
                    {
                        if (port.Contains(':', StringComparison.Ordinal))
                        {
                            fire(BuildCheckRule.ExposeInvalidFormat, ins, $"EXPOSE instruction should not define an IP address or host-port mapping, found '{port}'");
                        }
                        int slash = port.LastIndexOf('/');
                        if (slash >= 0 && !IsLower(port[(slash + 1)..]))
                        {
                            fire(BuildCheckRule.ExposeProtoCasing, ins, $"Defined protocol '{port}' in EXPOSE instruction should be lowercase");
                        }
                    }
                    break;
                case FileInstruction f when options.Ignore is not null && f is not CopyInstruction { From: not null }:
                    foreach (string source in f.Sources)
                    {
                        if (source.Contains("://", StringComparison.Ordinal) || source.StartsWith("<<", StringComparison.Ordinal) || source.StartsWith("git@", StringComparison.Ordinal)) { continue; }
                        if (options.Ignore.IsExcluded(source))
                        {
                            fire(BuildCheckRule.CopyIgnoredFile, ins, $"Attempting to {(f is CopyInstruction ? "Copy" : "Add")} file \"{source}\" that is excluded by .dockerignore");
                        }
                    }
                    break;
            }
        }
        absoluteWorkdir[stage.Index] = workdirSet;
        customShell[stage.Index] = shellSet;
    }

    private static IReadOnlyDictionary<string, string>? RootEnvironment(Stage stage, BuildCheckOptions options, out bool known)
    {
        Stage root = stage;
        while (root.BaseStage is not null) { root = root.BaseStage; }
        if (root.IsScratch)
        {
            known = true;
            return new Dictionary<string, string>();
        }
        IReadOnlyDictionary<string, string>? env = options.ImageEnvironment?.Invoke(root.BaseName);
        known = env is not null;
        return env;
    }

    private static void CheckCasing(ParsedDockerfile file, Action<BuildCheckRule, int, int, string> fire)
    {
        int lower = 0, upper = 0;
        foreach (Node node in file.Instructions)
        {
            if (IsConsistent(node.Keyword))
            {
                if (IsUpper(node.Keyword)) { upper++; } else { lower++; }
            }
        }
        bool majorityLower = lower > upper;
        foreach (Node node in file.Instructions)
        {
            string keyword = node.Keyword;
            string? correct = majorityLower && !IsLower(keyword) ? "lowercase"
                : !majorityLower && !IsUpper(keyword) ? "uppercase" : null;
            if (correct is not null)
            {
                fire(BuildCheckRule.ConsistentInstructionCasing, node.StartLine, node.EndLine, $"Command '{keyword}' should match the case of the command majority ({correct})");
            }
        }
    }

    private static void CheckSecret(Instruction at, string key, string command, Action<BuildCheckRule, Instruction, string> fire)
    {
        var tokens = KeyTokens().Matches(key).Select(m => m.Value.ToLowerInvariant()).ToList();
        if (tokens.Contains("public")) { return; }
        if (tokens.Any(SecretTokens.Contains))
        {
            fire(BuildCheckRule.SecretsUsedInArgOrEnv, at, $"Do not use ARG or ENV instructions for sensitive data ({command} \"{key}\")");
        }
    }

    private static void CheckDescription(Instruction at, Action<BuildCheckRule, Instruction, string> fire)
    {
        (string kind, string? name) = at switch
        {
            FromInstruction f => ("build stage", f.StageName),
            ArgInstruction { Args.Count: 1 } a => ("build argument", a.Args[0].Name),
            _ => ("", null),
        };
        if (name is null || at.Comments.Count == 0) { return; }
        string first = at.Comments[0];
        int space = first.IndexOf(' ', StringComparison.Ordinal);
        string firstWord = space < 0 ? first : first[..space];
        if (!string.Equals(firstWord, name, StringComparison.Ordinal))
        {
            fire(BuildCheckRule.InvalidDefinitionDescription, at, $"Comment for {kind} should follow the format: \"# {name} <description>\"");
        }
    }

    private static string FromKeyword(FromInstruction from)
    {
        string trimmed = GoText.TrimLeftSpace(from.Original);
        int end = 0;
        while (end < trimmed.Length && !GoText.IsSpace(trimmed[end])) { end++; }
        return trimmed[..end];
    }

    /// <summary>A stage named for its platform (<c>build_amd64</c>, <c>windows-base</c>) may pin it.</summary>
    private static bool NamedForPlatform(string? stageName, string platform)
    {
        if (stageName is null) { return false; }
        string[] parts = platform.ToLowerInvariant().Split('/');
        return parts.Take(2).Any(p => p.Length > 0 && stageName.Contains(p, StringComparison.Ordinal));
    }

    private static bool IsConsistent(string word) => IsLower(word) || IsUpper(word);

    private static bool IsUpper(string word) => !word.Any(char.IsLower);

    private static bool IsLower(string word) => !word.Any(char.IsUpper);

    private static bool PlatformMatches(string actual, string expected)
    {
        static string Normalize(string p)
        {
            string[] parts = p.ToLowerInvariant().Split('/');
            if (parts.Length >= 2 && parts[1] == "arm64" && parts.Length == 3 && parts[2] == "v8") { return parts[0] + "/arm64"; }
            return string.Join('/', parts);
        }
        return string.Equals(Normalize(actual), Normalize(expected), StringComparison.Ordinal);
    }

    private static string SafeExpand(ShellLexer lexer, string word, IReadOnlyDictionary<string, string> env)
    {
        try { return lexer.ProcessWord(word, env); }
        catch (WordExpansionException) { return ""; }
    }

    private static IEnumerable<string> Unmatched(ShellLexer lexer, string word, IReadOnlyDictionary<string, string> env)
    {
        try { return lexer.Process(word, env).Unmatched.Order(StringComparer.Ordinal); }
        catch (WordExpansionException) { return []; }
    }
}
