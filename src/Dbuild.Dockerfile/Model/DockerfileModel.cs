namespace Dbuild.Dockerfile;

/// <summary>
/// A Dockerfile resolved into stages with BuildKit's ARG scoping: global ARGs (before the first FROM) expand FROM
/// lines and are visible inside a stage only when re-declared there; <c>--build-arg</c> overrides defaults; proxy
/// build args need no declaration; platform ARGs (BUILDPLATFORM, TARGETOS, …) are automatic.
/// </summary>
public sealed class DockerfileModel
{
    private readonly Dictionary<string, string?> _globalArgs;
    private readonly HashSet<string> _consumed = new(StringComparer.Ordinal);

    private DockerfileModel(ParsedDockerfile file, BuildOptions options, IReadOnlyList<ArgInstruction> metaArgs, Dictionary<string, string?> globalArgs)
    {
        File = file;
        Options = options;
        MetaArgs = metaArgs;
        _globalArgs = globalArgs;
    }

    /// <summary>The parsed file.</summary>
    public ParsedDockerfile File { get; }

    /// <summary>The options the model was made with.</summary>
    public BuildOptions Options { get; }

    /// <summary>ARG instructions before the first FROM.</summary>
    public IReadOnlyList<ArgInstruction> MetaArgs { get; }

    /// <summary>Global ARG values after build-arg overrides (null: declared without a value).</summary>
    public IReadOnlyDictionary<string, string?> GlobalArgs => _globalArgs;

    /// <summary>The stages in order.</summary>
    public IReadOnlyList<Stage> Stages { get; private set; } = [];

    /// <summary>The stage being built (<see cref="BuildOptions.Target"/> or the last).</summary>
    public Stage Target { get; private set; } = null!;

    /// <summary>The target and every stage it depends on (FROM, COPY --from, RUN --mount from=), in order.</summary>
    public IReadOnlyList<Stage> RequiredStages { get; private set; } = [];

    /// <summary>Build args that no ARG in a required stage (or the global scope) declared, sorted.</summary>
    public IReadOnlyList<string> UnusedBuildArgs
    {
        get
        {
            foreach (Stage stage in RequiredStages) { _ = Evaluate(stage); }
            return [.. Options.BuildArgs.Keys
                .Where(k => !_consumed.Contains(k) && !BuildOptions.ProxyArgs.Contains(k) && !k.StartsWith("BUILDKIT_", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>BuildKit's warning for <see cref="UnusedBuildArgs"/>, or null when every build arg was used.</summary>
    public string? UnusedBuildArgsWarning =>
        UnusedBuildArgs is { Count: > 0 } unused ? $"[Warning] One or more build-args [{string.Join(' ', unused)}] were not consumed" : null;

    /// <summary>Builds the model.</summary>
    /// <exception cref="DockerfileSyntaxException">An instruction is invalid, or a FROM is empty after expansion.</exception>
    /// <exception cref="ArgumentException">The target stage does not exist.</exception>
    public static DockerfileModel Create(ParsedDockerfile file, BuildOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        options ??= new BuildOptions();
        IReadOnlyList<Instruction> instructions = InstructionParser.ParseAll(file);
        var lexer = new ShellLexer(file.EscapeToken);
        var metaArgs = new List<ArgInstruction>();
        var global = new Dictionary<string, string?>(StringComparer.Ordinal);
        var model = new DockerfileModel(file, options, metaArgs, global);
        IReadOnlyDictionary<string, string> platformArgs = options.PlatformArgs();
        int i = 0;
        for (; i < instructions.Count && instructions[i] is not FromInstruction; i++)
        {
            if (instructions[i] is not ArgInstruction arg)
            {
                throw file.Error(instructions[i].Location.StartLine, instructions[i].Location.Column, "no build stage in current context");
            }
            metaArgs.Add(arg);
            foreach (ArgDefinition def in arg.Args)
            {
                model._consumed.Add(def.Name);
                string? value = options.BuildArgs.TryGetValue(def.Name, out string? given) ? given
                    : def.DefaultValue is null ? null : Expand(file, lexer, arg, def.DefaultValue, model.MetaEnvironment(platformArgs));
                global[def.Name] = value;
            }
        }
        var stages = new List<Stage>();
        while (i < instructions.Count)
        {
            var from = (FromInstruction)instructions[i++];
            var body = new List<Instruction>();
            while (i < instructions.Count && instructions[i] is not FromInstruction) { body.Add(instructions[i++]); }
            Dictionary<string, string> env = model.MetaEnvironment(platformArgs);
            string baseName = Expand(file, lexer, from, from.BaseName, env);
            if (baseName.Length == 0)
            {
                throw file.Error(from.Location.StartLine, from.Location.Column, $"base name ({from.BaseName}) should not be blank");
            }
            string? platform = from.Platform is null ? null : Expand(file, lexer, from, from.Platform, env);
            Stage? baseStage = stages.LastOrDefault(s => s.Name is not null && string.Equals(s.Name, baseName, StringComparison.OrdinalIgnoreCase));
            stages.Add(new Stage(stages.Count, from, baseName, platform, body, baseStage));
        }
        if (stages.Count == 0)
        {
            throw file.Error(0, 0, "the Dockerfile has no FROM instruction");
        }
        model.Stages = stages;
        model.Target = options.Target is null ? stages[^1]
            : stages.FirstOrDefault(s => string.Equals(s.Name, options.Target, StringComparison.OrdinalIgnoreCase))
              ?? throw new ArgumentException(Suggest.WithSuggestion($"target stage \"{options.Target}\" could not be found", options.Target,
                  stages.Where(s => s.Name is not null).Select(s => s.Name!), false));
        model.RequiredStages = model.ComputeRequired();
        return model;
    }

    /// <summary>Finds a stage by name (case-insensitive) or index, as COPY --from and RUN --mount from= do.</summary>
    public Stage? FindStage(string nameOrIndex, int beforeIndex = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(nameOrIndex);
        Stage? byName = Stages.FirstOrDefault(s => s.Index < beforeIndex && string.Equals(s.Name, nameOrIndex, StringComparison.OrdinalIgnoreCase));
        if (byName is not null) { return byName; }
        return int.TryParse(nameOrIndex, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index)
            && index < Stages.Count && index < beforeIndex ? Stages[index] : null;
    }

    private Dictionary<string, string> MetaEnvironment(IReadOnlyDictionary<string, string> platformArgs)
    {
        var env = new Dictionary<string, string>(platformArgs, StringComparer.Ordinal);
        foreach ((string k, string? v) in _globalArgs)
        {
            if (v is not null) { env[k] = v; }
        }
        return env;
    }

    private List<Stage> ComputeRequired()
    {
        var needed = new HashSet<int>();
        var queue = new Stack<Stage>();
        queue.Push(Target);
        while (queue.Count > 0)
        {
            Stage s = queue.Pop();
            if (!needed.Add(s.Index)) { continue; }
            if (s.BaseStage is not null) { queue.Push(s.BaseStage); }
            foreach (Instruction ins in s.Instructions)
            {
                IEnumerable<string> refs = ins switch
                {
                    CopyInstruction { From: { } f } => [f],
                    RunInstruction run => run.Mounts.Where(m => m.From is not null).Select(m => m.From!),
                    _ => [],
                };
                foreach (string r in refs)
                {
                    if (FindStage(r, s.Index) is { } dep) { queue.Push(dep); }
                }
            }
        }
        return [.. Stages.Where(s => needed.Contains(s.Index))];
    }

    private static string Expand(ParsedDockerfile file, ShellLexer lexer, Instruction at, string word, IReadOnlyDictionary<string, string> env)
    {
        try
        {
            return lexer.ProcessWord(word, env);
        }
        catch (WordExpansionException ex)
        {
            throw file.Error(at.Location.StartLine, at.Location.Column, ex.Message);
        }
    }

    /// <summary>
    /// Walks a stage's instructions, expanding each one against the ARG and ENV values visible at that point. ENV
    /// beats ARG of the same name; all substitutions in one ENV or ARG see the values from before it.
    /// <paramref name="imageEnvironment"/> is the base image's environment (for a stage built on another stage, that
    /// stage's final environment is used instead).
    /// </summary>
    /// <exception cref="DockerfileSyntaxException">A word cannot be expanded.</exception>
    public IReadOnlyList<EvaluatedInstruction> Evaluate(Stage stage, IReadOnlyDictionary<string, string>? imageEnvironment = null)
    {
        ArgumentNullException.ThrowIfNull(stage);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (stage.BaseStage is { } baseStage)
        {
            IReadOnlyList<EvaluatedInstruction> parent = Evaluate(baseStage, imageEnvironment);
            IReadOnlyDictionary<string, string> last = parent.Count > 0 ? parent[^1].Environment : imageEnvironment ?? new Dictionary<string, string>();
            foreach ((string k, string v) in last) { env[k] = v; }
        }
        else if (imageEnvironment is not null)
        {
            foreach ((string k, string v) in imageEnvironment) { env[k] = v; }
        }
        var evaluator = new StageEvaluator(this, stage, env);
        return evaluator.Run();
    }

    internal void MarkConsumed(string name) => _consumed.Add(name);

    internal bool TryGetGlobal(string name, out string? value) => _globalArgs.TryGetValue(name, out value);
}
