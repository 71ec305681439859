using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// Stages on other platforms: BuildKit runs a stage on its <c>FROM --platform=…</c> platform (a stage FROM another
/// stage on that stage's), every other stage on the target platform. This session runs the stages of its own
/// platform; each stage of another platform goes to a sibling session for that platform, which resolves base images
/// for it (its RUN steps then run natively or under QEMU, whatever their binaries are) and shares this session's store,
/// cache and steps in flight (<see cref="SharedBuildState"/>).
/// </summary>
internal sealed partial class BuildSession
{
    private readonly SharedBuildState _shared;
    private readonly Platform _stagePlatform;
    private readonly List<BuildSession> _siblings = [];
    private readonly Dictionary<int, Platform> _stagePlatforms = [];

    /// <summary>
    /// Runs every stage the target needs (independent stages side by side, steps sharing the slots) and returns the
    /// target stage's final state, not yet exported.
    /// </summary>
    public async Task<StageState> BuildFinalStageAsync(CancellationToken cancellationToken)
    {
        RouteForeignStages(cancellationToken);
        // Load the context's hash cache and .dockerignore while base images resolve (a failure resurfaces on first use).
        if (_plan.Stages.Where(s => _needed.Contains(s.Index)).SelectMany(s => s.Instructions).Any(i => i.Keyword is "copy" or "add" && i.Flag("from") is null))
        {
            _ = Task.Run(() => _context.Value, cancellationToken);
        }
        foreach (int index in _needed.Where(n => n != _target.Index)) { _ = StageAsync(_plan.Stages[index], cancellationToken); }
        return await StageAsync(_target, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>This session's step reports and its siblings', each with the platform its stage ran on.</summary>
    public IEnumerable<(Platform Platform, StepReport Report)> Reports() =>
        _reports.Select(r => (_stagePlatform, r)).Concat(_siblings.SelectMany(s => s._reports.Select(r => (s._stagePlatform, r))));

    /// <summary>A push at the end: connect to its registries now, alongside the build.</summary>
    public static void WarmUpPush(BuilderOptions options, BuildRequest request, CancellationToken cancellationToken)
    {
        if (request.PushesImage && options.Registry is { } registry)
        {
            foreach (string host in request.Tags.Select(t => t.Registry).Distinct(StringComparer.Ordinal)) { _ = registry.WarmUpAsync(host, cancellationToken); }
        }
    }

    /// <summary>
    /// Hands each needed stage of another platform to a sibling session for that platform (made here, before any stage
    /// starts), and has every sibling hand back the stages that are not its own.
    /// </summary>
    private void RouteForeignStages(CancellationToken cancellationToken)
    {
        var owners = new Dictionary<Platform, BuildSession> { [_stagePlatform] = this };
        foreach (int index in _needed.Order())
        {
            Platform platform = PlatformOf(_plan.Stages[index]);
            if (!owners.ContainsKey(platform))
            {
                var sibling = new BuildSession(_options, _request, _plan, _shared.TrackerFor?.Invoke(platform) ?? _tracker, _shared, platform);
                owners[platform] = sibling;
                _siblings.Add(sibling);
            }
        }
        foreach (BuildSession session in owners.Values)
        {
            foreach (int index in _needed)
            {
                StagePlan stage = _plan.Stages[index];
                BuildSession owner = owners[PlatformOf(stage)];
                if (owner != session)
                {
                    session._stages[index] = new Lazy<Task<StageState>>(() => owner.StageAsync(stage, cancellationToken));
                }
            }
        }
    }

    /// <summary>
    /// The platform a stage runs on, as BuildKit decides it: a stage FROM another stage runs on that stage's platform;
    /// otherwise on its <c>--platform</c> (expanded with the global ARGs, where BUILDPLATFORM and TARGETPLATFORM are
    /// defined), otherwise on the target platform.
    /// </summary>
    private Platform PlatformOf(StagePlan stage)
    {
        if (_stagePlatforms.TryGetValue(stage.Index, out Platform? known)) { return known; }
        Platform platform;
        if (_plan.FindStage(_lexer.ProcessWord(stage.BaseExpression, _metaArgs), stage.Index) is { } parent)
        {
            platform = PlatformOf(parent);
        }
        else if (stage.PlatformFlag is { } flag)
        {
            string value = _lexer.ProcessWord(flag, _metaArgs);
            platform = Platform.TryParse(value, out Platform? parsed, out string? error) ? parsed!
                : throw new BuildException($"{_request.DockerfileName}:{stage.Line}: FROM --platform={flag}: {error}");
        }
        else
        {
            platform = _request.Platform;
        }
        _stagePlatforms[stage.Index] = platform;
        return platform;
    }
}
