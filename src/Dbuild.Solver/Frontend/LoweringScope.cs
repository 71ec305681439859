using System.Globalization;
using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Frontend;

/// <summary>What a name in <c>COPY --from</c> or <c>RUN --mount from=</c> refers to.</summary>
internal abstract record StageSource
{
    /// <summary>An earlier stage.</summary>
    public sealed record Stage(int Index) : StageSource;

    /// <summary>A named context directory (<c>--build-context name=DIR</c>).</summary>
    public sealed record Context(string Directory, string Name) : StageSource;

    /// <summary>An image (or a named context <c>docker-image://</c>).</summary>
    public sealed record Image(Reference Reference) : StageSource;
}

/// <summary>
/// What the lowering of one target platform shares across its stages: the file and its model, the request, the graph
/// being built, the images, the global ARGs, and how steps are named (progress) and identified (miss reasons).
/// </summary>
internal sealed class LoweringScope
{
    private readonly Dictionary<string, string> _metaArgs;
    private readonly ShellLexer _lexer;
    private ContextSourceOp? _context;

    public LoweringScope(ParsedDockerfile file, DockerfileModel model, BuildRequest request, BuildGraph graph, ImageSources images, Platform target, bool multiPlatform,
        DateTimeOffset now)
    {
        (File, Model, Request, Graph, Images, Target, MultiPlatform, Now) = (file, model, request, graph, images, target, multiPlatform, now);
        _lexer = new ShellLexer(file.EscapeToken);
        _metaArgs = new Dictionary<string, string>(model.Options.PlatformArgs(), StringComparer.Ordinal);
        foreach ((string name, string? value) in model.GlobalArgs)
        {
            if (value is not null) { _metaArgs[name] = value; }
        }
    }

    public ParsedDockerfile File { get; }

    public DockerfileModel Model { get; }

    public BuildRequest Request { get; }

    public BuildGraph Graph { get; }

    public ImageSources Images { get; }

    /// <summary>TARGETPLATFORM of this lowering.</summary>
    public Platform Target { get; }

    public bool MultiPlatform { get; }

    /// <summary>The time history entries get.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>How many stages the target needs (progress names carry the stage name when more than one).</summary>
    public int StageCount { get; set; }

    /// <summary>The build context, as one source op.</summary>
    public ContextSourceOp MainContext => _context ??= Graph.Add(new ContextSourceOp(Path.GetFullPath(Request.ContextDirectory), "context") { Fetched = Request.ContextIsRemote });

    /// <summary>An error at an instruction (at its flag, when the flag is on the instruction's first line).</summary>
    public DockerfileSyntaxException Error(Instruction at, string message, string? flag = null)
    {
        int column = at.Location.Column;
        if (flag is not null && at.Location.StartLine >= 1 && at.Location.StartLine <= File.SourceLines.Count)
        {
            string text = flag.StartsWith('-') ? flag : "--" + flag;
            int found = File.SourceLines[at.Location.StartLine - 1].IndexOf(text, StringComparison.Ordinal);
            if (found < 0 && !flag.StartsWith('-')) { found = File.SourceLines[at.Location.StartLine - 1].IndexOf(flag + "=", StringComparison.Ordinal); }
            if (found >= 0) { column = found + 1; }
        }
        return File.Error(at.Location.StartLine, column, message);
    }

    /// <summary>A word expanded with the global ARGs only (BuildKit expands <c>--from</c> so).</summary>
    public string ExpandGlobal(Instruction at, string word)
    {
        try { return _lexer.ProcessWord(word, _metaArgs); }
        catch (WordExpansionException ex) { throw Error(at, ex.Message); }
    }

    /// <summary>A named context that points at an image (<c>--build-context name=docker-image://ref</c>).</summary>
    public Reference? NamedImage(string name)
    {
        if (!Request.NamedContexts.TryGetValue(name, out string? value) || !value.StartsWith("docker-image://", StringComparison.Ordinal)) { return null; }
        string text = value["docker-image://".Length..];
        return Reference.TryParse(text, out Reference? reference, out string? error) ? reference
            : throw new FormatException($"--build-context {name}=docker-image://{text}: {error}");
    }

    /// <summary>What <paramref name="name"/> refers to from the stage at <paramref name="beforeIndex"/>: a named context, an earlier stage, or an image.</summary>
    public StageSource Source(string name, int beforeIndex, Instruction at)
    {
        if (Request.NamedContexts.TryGetValue(name, out string? named))
        {
            return NamedImage(name) is { } image ? new StageSource.Image(image) : new StageSource.Context(Path.GetFullPath(named), name);
        }
        if (Model.FindStage(name, beforeIndex) is { } stage) { return new StageSource.Stage(stage.Index); }
        return Reference.TryParse(name, out Reference? reference, out string? error) ? new StageSource.Image(reference)
            : throw Error(at, $"{NoStage(name, at)}, and \"{name}\" is not an image reference ({error})", "from");
    }

    /// <summary>The op a <c>--from</c> or <c>from=</c> reads: a named context, an earlier stage's filesystem, or an image's (resolved while preparing).</summary>
    public (OpNode Source, string Description) SourceOp(string from, StagePlan reader, IReadOnlyList<StagePlan> plans, Instruction at)
    {
        switch (Source(from, reader.Stage.Index, at))
        {
            case StageSource.Context context:
                return (Graph.Add(new ContextSourceOp(context.Directory, context.Name)), "context " + context.Name);
            case StageSource.Stage stage:
                return (plans[stage.Index].Rootfs ?? throw new InvalidOperationException($"stage {from} is not lowered before {reader.DisplayName}"),
                    "stage " + plans[stage.Index].DisplayName);
            case StageSource.Image image:
                return (Graph.Add(new ImageSourceOp(Images.Resolved(image.Reference, reader.Platform), reader.Platform)), "image " + image.Reference);
            default:
                throw new InvalidOperationException("Unknown source.");
        }
    }

    /// <summary><c>COPY --from=x: no stage named "x" (did you mean "y"?)</c>.</summary>
    public string NoStage(string name, Instruction at) =>
        Suggest.WithSuggestion($"{at.Keyword} --from={name}: no stage named \"{name}\"", name,
            Model.Stages.Where(s => s.Name is not null).Select(s => s.Name!), caseSensitive: false);

    /// <summary>Identifies a step across builds (for miss reasons): context, Dockerfile, stage, position, platform.</summary>
    public Digest StepId(StagePlan plan, int position) => new CacheKeyBuilder()
        .Add("context", Path.GetFullPath(Request.ContextDirectory))
        .Add("dockerfile", Request.DockerfileName)
        .Add("stage", plan.Stage.Name ?? plan.Stage.Index.ToString(CultureInfo.InvariantCulture))
        .Add("position", position.ToString(CultureInfo.InvariantCulture))
        .Add("platform", Target.ToString()) // each platform of a multi-platform build keeps its own history
        .Build();

    /// <summary>A step's progress prefix, as BuildKit prints it: <c>[build 2/5]</c>, <c>[2/5]</c>, <c>[linux/arm64 build 2/5]</c>.</summary>
    public string Prefix(StagePlan plan, int step, int total)
    {
        string platform = MultiPlatform ? Target + " " : "";
        return StageCount > 1 || Model.Stages.Count > 1 ? $"[{platform}{plan.DisplayName} {step}/{total}]" : $"[{platform}{step}/{total}]";
    }
}
