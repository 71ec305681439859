namespace Dbuild.Dockerfile;

/// <summary>Expands one stage's instructions in order while tracking ARG and ENV (see <see cref="DockerfileModel.Evaluate"/>).</summary>
internal sealed class StageEvaluator(DockerfileModel model, Stage stage, Dictionary<string, string> env)
{
    private readonly ShellLexer _lexer = new(model.File.EscapeToken);
    private readonly Dictionary<string, string?> _args = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, string> _platformArgs = model.Options.PlatformArgs();
    private List<string> _undefined = [];

    public IReadOnlyList<EvaluatedInstruction> Run()
    {
        var result = new List<EvaluatedInstruction>(stage.Instructions.Count);
        foreach (Instruction instruction in stage.Instructions)
        {
            _undefined = [];
            Dictionary<string, string> scope = Scope();
            Instruction expanded = Expand(instruction, scope);
            result.Add(new EvaluatedInstruction(expanded, new Dictionary<string, string>(env, StringComparer.Ordinal), BuildArgs(), _undefined));
        }
        return result;
    }

    /// <summary>What a word can see: ARG values, overridden by ENV.</summary>
    private Dictionary<string, string> Scope()
    {
        var scope = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string k, string? v) in _args)
        {
            if (v is not null) { scope[k] = v; }
        }
        foreach ((string k, string v) in env) { scope[k] = v; }
        return scope;
    }

    private Dictionary<string, string> BuildArgs()
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string k, string v) in model.Options.BuildArgs)
        {
            if (BuildOptions.ProxyArgs.Contains(k)) { args[k] = v; }
        }
        foreach ((string k, string? v) in _args)
        {
            if (v is not null) { args[k] = v; }
        }
        return args;
    }

    private string Word(string word, Dictionary<string, string> scope, Instruction at)
    {
        try
        {
            WordExpansion expansion = _lexer.Process(word, scope);
            foreach (string name in expansion.Unmatched)
            {
                if (!_args.ContainsKey(name) && !_undefined.Contains(name)) { _undefined.Add(name); }
            }
            return expansion.Result;
        }
        catch (WordExpansionException ex)
        {
            throw model.File.Error(at.Location.StartLine, at.Location.Column, ex.Message);
        }
    }

    private string? OptionalWord(string? word, Dictionary<string, string> scope, Instruction at) => word is null ? null : Word(word, scope, at);

    private IEnumerable<string> Words(string word, Dictionary<string, string> scope, Instruction at)
    {
        try
        {
            WordExpansion expansion = _lexer.Process(word, scope);
            foreach (string name in expansion.Unmatched)
            {
                if (!_args.ContainsKey(name) && !_undefined.Contains(name)) { _undefined.Add(name); }
            }
            return expansion.Words;
        }
        catch (WordExpansionException ex)
        {
            throw model.File.Error(at.Location.StartLine, at.Location.Column, ex.Message);
        }
    }

    /// <summary>
    /// COPY/ADD heredoc bodies with an unquoted marker get variables expanded (quotes and escapes kept as written);
    /// RUN heredocs are left to the shell.
    /// </summary>
    private IReadOnlyList<Heredoc> ExpandHeredocs(IReadOnlyList<Heredoc> heredocs, Dictionary<string, string> scope, Instruction at)
    {
        if (heredocs.Count == 0 || !heredocs.Any(h => h.Expand)) { return heredocs; }
        var lexer = new ShellLexer(model.File.EscapeToken) { SkipProcessQuotes = true, RawEscapes = true };
        var result = new List<Heredoc>(heredocs.Count);
        foreach (Heredoc h in heredocs)
        {
            if (!h.Expand)
            {
                result.Add(h);
                continue;
            }
            try
            {
                result.Add(h with { Content = lexer.ProcessWord(h.Content, scope) });
            }
            catch (WordExpansionException ex)
            {
                throw model.File.Error(at.Location.StartLine, at.Location.Column, ex.Message);
            }
        }
        return result;
    }

    private Instruction Expand(Instruction instruction, Dictionary<string, string> scope)
    {
        switch (instruction)
        {
            case EnvInstruction e:
                {
                    // Every substitution in one ENV sees the values from before it.
                    var pairs = e.Pairs.Select(p => p with { Key = Word(p.Key, scope, e), Value = Word(p.Value, scope, e) }).ToList();
                    foreach (KeyValue p in pairs) { env[p.Key] = p.Value; }
                    return e with { Pairs = pairs };
                }
            case LabelInstruction l:
                return l with { Pairs = [.. l.Pairs.Select(p => p with { Key = Word(p.Key, scope, l), Value = Word(p.Value, scope, l) })] };
            case ArgInstruction a:
                {
                    var defs = new List<ArgDefinition>(a.Args.Count);
                    var values = new List<(string, string?)>();
                    foreach (ArgDefinition def in a.Args)
                    {
                        string name = Word(def.Name, scope, a);
                        string? expandedDefault = OptionalWord(def.DefaultValue, scope, a);
                        defs.Add(new ArgDefinition(name, expandedDefault));
                        model.MarkConsumed(name);
                        string? value;
                        if (model.Options.BuildArgs.TryGetValue(name, out string? given)) { value = given; }
                        else if (expandedDefault is not null) { value = expandedDefault; }
                        else if (model.TryGetGlobal(name, out string? global)) { value = global; }
                        else if (_platformArgs.TryGetValue(name, out string? platform)) { value = platform; }
                        else { value = null; }
                        values.Add((name, value));
                    }
                    foreach ((string name, string? value) in values) { _args[name] = value; }
                    return a with { Args = defs };
                }
            case CopyInstruction c:
                return c with
                {
                    Heredocs = ExpandHeredocs(c.Heredocs, scope, c),
                    Sources = [.. c.Sources.Select(s => Word(s, scope, c))],
                    Destination = Word(c.Destination, scope, c),
                    From = OptionalWord(c.From, scope, c),
                    Chown = OptionalWord(c.Chown, scope, c),
                    Chmod = OptionalWord(c.Chmod, scope, c),
                    Excludes = [.. c.Excludes.Select(s => Word(s, scope, c))],
                };
            case AddInstruction d:
                return d with
                {
                    Heredocs = ExpandHeredocs(d.Heredocs, scope, d),
                    Sources = [.. d.Sources.Select(s => Word(s, scope, d))],
                    Destination = Word(d.Destination, scope, d),
                    Chown = OptionalWord(d.Chown, scope, d),
                    Chmod = OptionalWord(d.Chmod, scope, d),
                    Checksum = OptionalWord(d.Checksum, scope, d),
                    Excludes = [.. d.Excludes.Select(s => Word(s, scope, d))],
                };
            case ExposeInstruction x:
                return x with { Ports = [.. x.Ports.SelectMany(p => Words(p, scope, x))] };
            case VolumeInstruction v:
                return v with { Volumes = [.. v.Volumes.Select(p => Word(p, scope, v))] };
            case UserInstruction u:
                return u with { User = Word(u.User, scope, u) };
            case WorkdirInstruction w:
                return w with { Path = Word(w.Path, scope, w) };
            case StopSignalInstruction s:
                return s with { Signal = Word(s.Signal, scope, s) };
            case RunInstruction r when r.MountSpecs.Count > 0:
                {
                    var mounts = new List<RunMount>(r.MountSpecs.Count);
                    foreach (string spec in r.MountSpecs)
                    {
                        try
                        {
                            mounts.Add(RunMount.Parse(spec, v => Word(v, scope, r)));
                        }
                        catch (FormatException ex) when (ex is not DockerfileSyntaxException)
                        {
                            throw model.File.Error(r.Location.StartLine, r.Location.Column, ex.Message);
                        }
                    }
                    return r with { Mounts = mounts };
                }
            default:
                return instruction;
        }
    }
}
