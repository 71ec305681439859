namespace Dbuild.Dockerfile;

/// <summary>
/// The ARG and ENV values visible inside one stage, instruction by instruction, with BuildKit's rules: ENV beats ARG
/// of the same name; all substitutions in one ENV or ARG see the values from before it; an ARG takes its value from
/// <c>--build-arg</c>, then its default, then the global ARG of that name, then the automatic platform ARGs.
/// <see cref="Expand"/> expands one instruction where BuildKit expands it and then applies it to the scope.
/// </summary>
public sealed class StageScope
{
    private readonly DockerfileModel _model;
    private readonly Dictionary<string, string> _env;
    private readonly ShellLexer _lexer;
    private readonly List<KeyValuePair<string, string?>> _args = [];
    private readonly IReadOnlyDictionary<string, string> _platformArgs;
    private List<string> _undefined = [];

    /// <summary>A scope over <paramref name="imageEnvironment"/> (the base image's, or the parent stage's, environment).</summary>
    public StageScope(DockerfileModel model, IReadOnlyDictionary<string, string> imageEnvironment)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(imageEnvironment);
        _model = model;
        _env = new Dictionary<string, string>(imageEnvironment, StringComparer.Ordinal);
        _lexer = new ShellLexer(model.File.EscapeToken);
        _platformArgs = model.Options.PlatformArgs();
    }

    /// <summary>The image environment (base image + ENV) after the instructions expanded so far.</summary>
    public IReadOnlyDictionary<string, string> Environment => _env;

    /// <summary>ARGs declared in this stage so far, in declaration order (a re-declared ARG moves to the end); null: no value.</summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Args => _args;

    /// <summary>Variables the last <see cref="Expand"/> used that nothing defined.</summary>
    public IReadOnlyList<string> UndefinedVariables => _undefined;

    /// <summary>ARG values in scope plus the proxy build args (which need no ARG), as RUN sees them.</summary>
    public Dictionary<string, string> BuildArgs()
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string k, string v) in _model.Options.BuildArgs)
        {
            if (BuildOptions.ProxyArgs.Contains(k)) { args[k] = v; }
        }
        foreach ((string k, string? v) in _args)
        {
            if (v is not null) { args[k] = v; }
        }
        return args;
    }

    /// <summary>What a word can see: ARG values, overridden by ENV.</summary>
    public Dictionary<string, string> Variables()
    {
        var scope = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string k, string? v) in _args)
        {
            if (v is not null) { scope[k] = v; }
        }
        foreach ((string k, string v) in _env) { scope[k] = v; }
        return scope;
    }

    /// <summary>Expands one instruction (a word that cannot be expanded throws <see cref="DockerfileSyntaxException"/> at it) and applies its ARG or ENV.</summary>
    public Instruction Expand(Instruction instruction)
    {
        ArgumentNullException.ThrowIfNull(instruction);
        _undefined = [];
        return ExpandCore(instruction, Variables());
    }

    private string Word(string word, Dictionary<string, string> scope, Instruction at)
    {
        try
        {
            WordExpansion expansion = _lexer.Process(word, scope);
            foreach (string name in expansion.Unmatched)
            {
                if (!_args.Exists(a => a.Key == name) && !_undefined.Contains(name)) { _undefined.Add(name); }
            }
            return expansion.Result;
        }
        catch (WordExpansionException ex)
        {
            throw _model.File.Error(at.Location.StartLine, at.Location.Column, ex.Message);
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
                if (!_args.Exists(a => a.Key == name) && !_undefined.Contains(name)) { _undefined.Add(name); }
            }
            return expansion.Words;
        }
        catch (WordExpansionException ex)
        {
            throw _model.File.Error(at.Location.StartLine, at.Location.Column, ex.Message);
        }
    }

    /// <summary>
    /// COPY/ADD heredoc bodies with an unquoted marker get variables expanded (quotes and escapes kept as written);
    /// RUN heredocs are left to the shell.
    /// </summary>
    private IReadOnlyList<Heredoc> ExpandHeredocs(IReadOnlyList<Heredoc> heredocs, Dictionary<string, string> scope, Instruction at)
    {
        if (heredocs.Count == 0 || !heredocs.Any(h => h.Expand)) { return heredocs; }
        var lexer = new ShellLexer(_model.File.EscapeToken) { SkipProcessQuotes = true, RawEscapes = true };
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
                throw _model.File.Error(at.Location.StartLine, at.Location.Column, ex.Message);
            }
        }
        return result;
    }

    private Instruction ExpandCore(Instruction instruction, Dictionary<string, string> scope)
    {
        switch (instruction)
        {
            case EnvInstruction e:
                {
                    // Every substitution in one ENV sees the values from before it.
                    var pairs = e.Pairs.Select(p => p with { Key = Word(p.Key, scope, e), Value = Word(p.Value, scope, e) }).ToList();
                    foreach (KeyValue p in pairs) { _env[p.Key] = p.Value; }
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
                        _model.MarkConsumed(name);
                        string? value;
                        if (_model.Options.BuildArgs.TryGetValue(name, out string? given)) { value = given; }
                        else if (expandedDefault is not null) { value = expandedDefault; }
                        else if (_model.TryGetGlobal(name, out string? global)) { value = global; }
                        else if (_platformArgs.TryGetValue(name, out string? platform)) { value = platform; }
                        else { value = null; }
                        values.Add((name, value));
                    }
                    foreach ((string name, string? value) in values)
                    {
                        _args.RemoveAll(x => x.Key == name);
                        _args.Add(new(name, value));
                    }
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
                            throw _model.File.Error(r.Location.StartLine, r.Location.Column, ex.Message);
                        }
                    }
                    return r with { Mounts = mounts };
                }
            default:
                return instruction;
        }
    }
}
