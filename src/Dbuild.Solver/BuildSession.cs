using System.Collections.Concurrent;
using System.Text;
using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

/// <summary>One build: stages scheduled in parallel (bounded), each a chain of steps keyed by content.</summary>
internal sealed partial class BuildSession : IDisposable
{
    private readonly BuilderOptions _options;
    private readonly BuildRequest _request;
    private readonly BuildPlan _plan;
    private readonly VertexTracker _tracker;
    private readonly ContentStore _store;
    private readonly BuildCache _cache;
    private readonly ImageResolver _resolver;
    private readonly ILayerFileSystem _fs;
    private readonly ShellLexer _lexer;
    private readonly SemaphoreSlim _slots;
    private readonly string _tmp;
    private readonly Dictionary<string, string> _metaArgs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, Lazy<Task<StageState>>> _stages = new();
    private readonly ConcurrentDictionary<Digest, Lazy<Task<CacheRecord>>> _inflight = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<BaseImage>>> _images = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<StepReport> _reports = [];
    private readonly DateTimeOffset _now;
    private readonly Lazy<ContextTree> _context;
    private readonly HashSet<int> _needed;
    private readonly StagePlan _target;
    private readonly LayerCompressor _compressor;
    private readonly HashSet<int> _imageStages;

    /// <summary>
    /// A session for <paramref name="request"/>'s target platform, or (with <paramref name="stagePlatform"/>) one that
    /// runs the stages of another platform (<c>FROM --platform=…</c>) for that target: its base images are resolved for
    /// <paramref name="stagePlatform"/>, while TARGETPLATFORM and friends stay the request's.
    /// </summary>
    public BuildSession(BuilderOptions options, BuildRequest request, BuildPlan plan, VertexTracker tracker, SharedBuildState? shared = null, Platform? stagePlatform = null)
    {
        _options = options;
        _request = request;
        _plan = plan;
        _tracker = tracker;
        _shared = shared ?? new SharedBuildState(options, request);
        _stagePlatform = stagePlatform ?? request.Platform;
        _store = _shared.Store;
        _cache = _shared.Cache;
        _resolver = new ImageResolver(_store, options.Registry, _stagePlatform);
        _fs = options.FileSystem ?? BclLayerFileSystem.Instance;
        _lexer = new ShellLexer(plan.Source.EscapeToken);
        _slots = _shared.Slots;
        _tmp = _shared.Tmp;
        _now = _shared.Now;
        _context = _shared.Context;
        // Shared with the build's other sessions: a step with the same key runs once, an image loads once per platform.
        _inflight = _shared.Inflight;
        _images = _shared.ImagesFor(_stagePlatform);
        EvaluateMetaArgs();
        _target = request.Target is { } t
            ? plan.Stages.FirstOrDefault(s => string.Equals(s.Name, t, StringComparison.OrdinalIgnoreCase)) ?? throw new BuildException($"target stage \"{t}\" could not be found")
            : plan.Stages[^1];
        _needed = NeededStages(_target);
        _compressor = _shared.Compressor;
        _imageStages = ImageStages(_target);
    }

    /// <summary>The target and the stages it is built FROM: every layer they make ends up in the exported image.</summary>
    private HashSet<int> ImageStages(StagePlan target)
    {
        var stages = new HashSet<int>();
        for (StagePlan? stage = target; stage is not null && stages.Add(stage.Index);)
        {
            stage = _plan.FindStage(_lexer.ProcessWord(stage.BaseExpression, _metaArgs), stage.Index);
        }
        return stages;
    }

    private void EvaluateMetaArgs()
    {
        foreach (var (key, value) in PredefinedArgs()) { _metaArgs[key] = value; }
        foreach (Instruction arg in _plan.MetaArgs)
        {
            foreach (string word in arg.Args)
            {
                int eq = word.IndexOf('=', StringComparison.Ordinal);
                string name = eq < 0 ? word : word[..eq];
                string? value = _request.BuildArgs.TryGetValue(name, out string? given) ? given
                    : eq < 0 ? (_metaArgs.TryGetValue(name, out string? predefined) ? predefined : null)
                    : _lexer.ProcessWord(word[(eq + 1)..], _metaArgs);
                if (value is not null) { _metaArgs[name] = value; } else { _metaArgs.Remove(name); }
            }
        }
    }

    private IEnumerable<KeyValuePair<string, string>> PredefinedArgs()
    {
        Platform p = _request.Platform;
        yield return new("TARGETPLATFORM", p.ToString());
        yield return new("TARGETOS", p.Os);
        yield return new("TARGETARCH", p.Architecture);
        yield return new("TARGETVARIANT", p.Variant ?? "");
        yield return new("BUILDPLATFORM", Platform.Current.ToString());
        yield return new("BUILDOS", Platform.Current.Os);
        yield return new("BUILDARCH", Platform.Current.Architecture);
        yield return new("BUILDVARIANT", Platform.Current.Variant ?? "");
    }

    /// <summary>The target and every stage it reaches through FROM, COPY --from and RUN --mount from=.</summary>
    private HashSet<int> NeededStages(StagePlan target)
    {
        var needed = new HashSet<int>();
        var queue = new Queue<StagePlan>([target]);
        while (queue.Count > 0)
        {
            StagePlan stage = queue.Dequeue();
            if (!needed.Add(stage.Index)) { continue; }
            var refs = new List<string> { _lexer.ProcessWord(stage.BaseExpression, _metaArgs) };
            foreach (Instruction i in stage.Instructions)
            {
                if (i.Flag("from") is { } from) { refs.Add(_lexer.ProcessWord(from, _metaArgs)); }
                foreach (string mount in i.FlagValues("mount"))
                {
                    foreach (string part in mount.Split(','))
                    {
                        if (part.StartsWith("from=", StringComparison.Ordinal)) { refs.Add(part[5..]); }
                    }
                }
            }
            foreach (string r in refs)
            {
                if (_plan.FindStage(r, stage.Index) is { } dep) { queue.Enqueue(dep); }
            }
        }
        return needed;
    }

    public async Task<BuildResult> RunAsync(CancellationToken cancellationToken)
    {
        WarmUpPush(_options, _request, cancellationToken);
        StageState final = await BuildFinalStageAsync(cancellationToken).ConfigureAwait(false);
        if (_context.IsValueCreated) { await _context.Value.SaveAsync(cancellationToken).ConfigureAwait(false); }
        foreach (var label in _request.Labels) { final.Labels[label.Key] = label.Value; }
        var exporter = new ImageExporter(_store, _options, _request, _tracker, _tmp, _compressor);
        BuildResult result = await exporter.ExportAsync(final, _now, cancellationToken).ConfigureAwait(false);
        return result with { Steps = [.. Reports().Select(r => r.Report).OrderBy(r => r.Vertex)] };
    }

    public void Dispose() => _slots.Dispose();

    public async Task CleanupAsync()
    {
        await _compressor.DrainAsync().ConfigureAwait(false); // background compressions write into _tmp
        try { Directory.Delete(_tmp, recursive: true); }
        catch (IOException) { /* best effort; the next prune removes it */ }
        catch (UnauthorizedAccessException) { }
    }

    private Task<StageState> StageAsync(StagePlan stage, CancellationToken cancellationToken) =>
        _stages.GetOrAdd(stage.Index, _ => new Lazy<Task<StageState>>(() => Task.Run(() => RunStageAsync(stage, cancellationToken), cancellationToken))).Value;

    private string Prefix(StagePlan stage, int step, int total) =>
        _needed.Count > 1 || _plan.Stages.Count > 1 ? $"[{stage.DisplayName} {step}/{total}]" : $"[{step}/{total}]";

    private async Task<StageState> RunStageAsync(StagePlan stage, CancellationToken cancellationToken)
    {
        string baseName = _lexer.ProcessWord(stage.BaseExpression, _metaArgs);
        var triggers = new List<Instruction>();
        StageState state;
        string? pendingReason = null;
        int total = 1 + stage.Instructions.Count(IsStep);
        if (string.Equals(baseName, "scratch", StringComparison.OrdinalIgnoreCase))
        {
            // BuildKit gives a scratch stage the default PATH and WorkingDir "/".
            state = new StageState
            {
                BaseConfig = new ImageConfig(_request.Platform) { Config = new ContainerConfig { WorkingDir = "/" } },
                Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                Key = new CacheKeyBuilder().Add("scratch", _request.Platform.ToString()).Build(),
            };
        }
        else if (_plan.FindStage(baseName, stage.Index) is { } parent)
        {
            state = (await StageAsync(parent, cancellationToken).ConfigureAwait(false)).Fork();
        }
        else
        {
            BaseImage image = await ResolveImageAsync(baseName, cancellationToken).ConfigureAwait(false);
            state = StageState.FromImage(image.Config, image.Layers, new CacheKeyBuilder().Add("base image", image.ManifestDigest.ToString()).Build());
            Digest fromId = StepId(stage, 0);
            IReadOnlyList<KeyComponent>? before = await _cache.GetStepHistoryAsync(fromId, cancellationToken).ConfigureAwait(false);
            KeyComponent now = new("base image", image.ManifestDigest.ToString());
            if (before is not null && before.FirstOrDefault(c => c.Name == "base image")?.Value is { } old && old != now.Value) { pendingReason = "base image digest changed"; }
            await _cache.PutStepHistoryAsync(fromId, [now], cancellationToken).ConfigureAwait(false);
            Vertex from = _tracker.Start($"{Prefix(stage, 1, total + state.OnBuild.Count)} FROM {image.Reference}@{image.ManifestDigest}");
            from.Done();
        }
        foreach (string trigger in state.OnBuild)
        {
            ParsedDockerfile parsed = DockerfileParser.Parse(trigger, $"ONBUILD in {baseName}");
            triggers.AddRange(parsed.Instructions.Select(Instruction.FromNode));
        }
        state.OnBuild.Clear();
        state.Args.Clear();
        total += triggers.Count(IsStep);
        int step = 1;
        int position = 0;
        foreach (Instruction instruction in triggers.Concat(stage.Instructions))
        {
            position++;
            if (IsStep(instruction)) { step++; }
            string name = $"{Prefix(stage, step, total)} {DisplayText(instruction)}";
            pendingReason = await DispatchAsync(stage, state, instruction, name, StepId(stage, position), pendingReason, cancellationToken).ConfigureAwait(false);
        }
        return state;
    }

    private static bool IsStep(Instruction i) => i.Keyword is "copy" or "add" or "run" or "workdir";

    private static string DisplayText(Instruction i)
    {
        string original = i.Original.Trim();
        int space = original.IndexOfAny([' ', '\t']);
        return space < 0 ? i.Keyword.ToUpperInvariant() : i.Keyword.ToUpperInvariant() + original[space..];
    }

    /// <summary>Identifies a step across builds (for miss reasons): context, Dockerfile, stage and position.</summary>
    private Digest StepId(StagePlan stage, int position) => new CacheKeyBuilder()
        .Add("context", Path.GetFullPath(_request.ContextDirectory))
        .Add("dockerfile", _request.DockerfileName)
        .Add("stage", stage.Name ?? stage.Index.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .Add("position", position.ToString(System.Globalization.CultureInfo.InvariantCulture))
        .Add("platform", _request.Platform.ToString()) // each platform of a multi-platform build keeps its own history
        .Build();

    private async Task<BaseImage> ResolveImageAsync(string name, CancellationToken cancellationToken)
    {
        if (_request.NamedContexts.TryGetValue(name, out string? named) && named.StartsWith("docker-image://", StringComparison.Ordinal))
        {
            name = named["docker-image://".Length..];
        }
        if (!Reference.TryParse(name, out Reference? reference, out string? error)) { throw new BuildException($"FROM {name}: {error}"); }
        // Stages FROM the same image resolve it once (one "load metadata" vertex, one registry round trip), as BuildKit does.
        return await _images.GetOrAdd(reference.ToString(), _ => new Lazy<Task<BaseImage>>(() => LoadMetadataAsync(reference, cancellationToken))).Value.ConfigureAwait(false);
    }

    private async Task<BaseImage> LoadMetadataAsync(Reference reference, CancellationToken cancellationToken)
    {
        Vertex meta = _tracker.Start($"[internal] load metadata for {reference}");
        try
        {
            BaseImage image = await _resolver.ResolveAsync(reference, _request.Pull, cancellationToken).ConfigureAwait(false);
            meta.Done();
            return image;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            meta.Fail(ex.Message);
            throw;
        }
    }

    /// <summary>
    /// Runs a layer step through the cache: a hit reuses the recorded layer; a miss reports why (comparing this
    /// step's components with last time), produces the layer once even if several stages ask, and records it.
    /// Returns the reason to pass to the next step when only its parent changes.
    /// </summary>
    private async Task<string?> RunCachedStepAsync(StagePlan stage, StageState state, string name, Digest stepId, CacheKeyBuilder key, string? pendingReason,
        Func<Vertex, CancellationToken, Task<CachedLayer?>> produce, Action<CachedLayer?>? applied, string historyText, CancellationToken cancellationToken)
    {
        Vertex vertex = _tracker.Start(name);
        Digest digest = key.Build();
        IReadOnlyList<KeyComponent>? before = await _cache.GetStepHistoryAsync(stepId, cancellationToken).ConfigureAwait(false);
        bool noCache = _request.NoCache || _request.NoCacheFilter.Contains(stage.DisplayName, StringComparer.OrdinalIgnoreCase);
        CacheRecord? record = noCache ? null : await _cache.TryGetAsync(digest, cancellationToken).ConfigureAwait(false);
        string? reason = null;
        try
        {
            if (record is null)
            {
                reason = noCache ? "--no-cache" : MissReason.Explain(before, key.Components);
                if (reason is "previous step changed" or "no earlier build of this step" && pendingReason is not null) { reason = pendingReason; }
                vertex.Miss(reason);
                Log.CacheMiss(_options.Logger, name, digest.ToString(), reason);
                record = await _inflight.GetOrAdd(digest, _ => new Lazy<Task<CacheRecord>>(async () =>
                {
                    await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        CachedLayer? layer = await produce(vertex, cancellationToken).ConfigureAwait(false);
                        var made = new CacheRecord(layer);
                        await _cache.PutAsync(digest, made, cancellationToken).ConfigureAwait(false);
                        return made;
                    }
                    finally { _slots.Release(); }
                })).Value.ConfigureAwait(false);
            }
            else
            {
                Log.CacheHit(_options.Logger, name, digest.ToString());
            }
            await _cache.PutStepHistoryAsync(stepId, key.Components, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            vertex.Fail(ex.Message);
            throw;
        }
        state.Key = digest;
        if (record.Layer is { } l)
        {
            var layer = new LayerRef(new Descriptor(l.MediaType, Digest.Parse(l.Digest), l.Size), Digest.Parse(l.DiffId));
            state.Layers.Add(layer);
            // These layers are the image's: compress them now, alongside the steps still to run.
            if (_imageStages.Contains(stage.Index)) { _compressor.Prefetch(layer, cancellationToken); }
        }
        applied?.Invoke(record.Layer);
        state.History.Add(new HistoryEntry
        {
            Created = _now,
            CreatedBy = historyText,
            Comment = "buildkit.dockerfile.v0",
            EmptyLayer = record.Layer is null,
        });
        if (reason is null) { vertex.Cached(); } else { vertex.Done(); }
        _reports.Add(new StepReport(vertex.Id, name, reason is null, reason, vertex.Elapsed));
        return reason is null ? pendingReason : "previous step changed";
    }

    private void AddHistory(StageState state, string text) => state.History.Add(new HistoryEntry
    {
        Created = _now,
        CreatedBy = text,
        Comment = "buildkit.dockerfile.v0",
        EmptyLayer = true,
    });

    private string Expand(string word, StageState state) => _lexer.ProcessWord(word, state.ExpansionEnvironment());

    /// <summary>Go's %v of a string slice: <c>[a b]</c>.</summary>
    private static string GoSlice(IEnumerable<string> values) => "[" + string.Join(' ', values) + "]";

    /// <summary>Go's %q of a string slice: <c>["a" "b c"]</c>.</summary>
    private static string GoQuoted(IEnumerable<string> values)
    {
        var sb = new StringBuilder("[");
        bool first = true;
        foreach (string v in values)
        {
            if (!first) { sb.Append(' '); }
            first = false;
            sb.Append('"');
            foreach (char c in v)
            {
                sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\t' => "\\t", '\r' => "\\r", _ => c.ToString() });
            }
            sb.Append('"');
        }
        return sb.Append(']').ToString();
    }
}
