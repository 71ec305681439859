using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Frontend;

/// <summary>
/// Lowering (BuildKit's dockerfile2llb): the typed Dockerfile model, the build args and a target platform become ops in
/// the build graph, and only then does anything run. All validation happens here: an unknown instruction or flag, a bad
/// value, a missing stage or target, a malformed platform, a missing secret is one <see cref="DockerfileSyntaxException"/>
/// naming file:line:column (exit 2). <see cref="PrepareAsync"/> works out the stages the target needs and resolves their
/// base images (the only part that talks to a registry); <see cref="Lower"/> then adds the ops, stage by stage.
/// </summary>
internal sealed class DockerfileLowering
{
    private readonly LoweringScope _scope;
    private readonly List<StagePlan> _plans = [];
    private StagePlan? _target;

    public DockerfileLowering(LoweringScope scope) => _scope = scope;

    /// <summary>Phase one: stages, platforms and images. Throws <see cref="DockerfileSyntaxException"/> for bad input.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        DockerfileModel model = _scope.Model;
        foreach (Stage stage in model.Stages) { _plans.Add(Plan(stage)); }
        _target = _plans[model.Target.Index];
        HashSet<int> needed = Needed(_target);
        _scope.StageCount = needed.Count;
        // Every image the needed stages read, resolved side by side; the first failure cancels the others.
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var work = new List<Task>();
        foreach (StagePlan plan in _plans.Where(p => needed.Contains(p.Stage.Index)))
        {
            if (plan.ImageReference is { } reference) { work.Add(ResolveBaseAsync(plan, reference, failed)); }
            foreach ((Instruction at, string name) in SourceNames(plan.Stage))
            {
                if (_scope.Source(name, plan.Stage.Index, at) is StageSource.Image image) { work.Add(ResolveFromAsync(at, name, image.Reference, plan.Platform, failed)); }
            }
        }
        await Task.WhenAll(work).ConfigureAwait(false);
    }

    /// <summary>Phase two: the needed stages' ops into the graph, in order (a stage only reads earlier ones).</summary>
    public LoweredImage Lower()
    {
        StagePlan target = _target ?? throw new InvalidOperationException("PrepareAsync first.");
        HashSet<int> needed = Needed(target);
        foreach (StagePlan plan in _plans.Where(p => needed.Contains(p.Stage.Index)))
        {
            new StageLowering(_scope, plan, _plans).Lower();
        }
        MarkImageLayers(target.Rootfs!);
        return new LoweredImage(_scope.Target, target.Rootfs!, target.Config!);
    }

    private StagePlan Plan(Stage stage)
    {
        string baseName = stage.BaseName;
        if (stage.BaseStage is { } parent) { return new StagePlan(stage, _plans[parent.Index].Platform); }
        Platform platform = _scope.Target;
        if (stage.Platform is { } value)
        {
            platform = Platform.TryParse(value, out Platform? parsed, out string? error) ? parsed!
                : throw _scope.Error(stage.From, $"FROM --platform={value}: {error}", "--platform");
        }
        if (stage.IsScratch) { return new StagePlan(stage, platform); }
        if (_scope.NamedImage(baseName) is { } named) { return new StagePlan(stage, platform) { ImageReference = named }; }
        return Reference.TryParse(baseName, out Reference? reference, out string? problem)
            ? new StagePlan(stage, platform) { ImageReference = reference }
            : throw _scope.Error(stage.From, $"failed to parse stage name \"{baseName}\": {problem}");
    }

    /// <summary>The target and every stage it reaches through FROM, COPY --from and RUN --mount from=.</summary>
    private HashSet<int> Needed(StagePlan target)
    {
        var needed = new HashSet<int>();
        var queue = new Stack<StagePlan>([target]);
        while (queue.Count > 0)
        {
            StagePlan plan = queue.Pop();
            if (!needed.Add(plan.Stage.Index)) { continue; }
            if (plan.Stage.BaseStage is { } parent) { queue.Push(_plans[parent.Index]); }
            foreach ((Instruction at, string name) in SourceNames(plan.Stage))
            {
                if (_scope.Source(name, plan.Stage.Index, at) is StageSource.Stage dependency) { queue.Push(_plans[dependency.Index]); }
            }
        }
        return needed;
    }

    /// <summary>The names a stage copies or mounts from (<c>--from</c>, <c>from=</c>), expanded with the global ARGs.</summary>
    private IEnumerable<(Instruction At, string Name)> SourceNames(Stage stage)
    {
        foreach (Instruction instruction in stage.Instructions)
        {
            if (instruction is CopyInstruction { From: { } from }) { yield return (instruction, _scope.ExpandGlobal(instruction, from)); }
            if (instruction is RunInstruction run)
            {
                foreach (RunMount mount in run.Mounts.Where(m => m.From is not null)) { yield return (instruction, _scope.ExpandGlobal(instruction, mount.From!)); }
            }
        }
    }

    private async Task ResolveBaseAsync(StagePlan plan, Reference reference, CancellationTokenSource failed)
    {
        try { plan.Image = await _scope.Images.ResolveAsync(reference, plan.Platform, failed.Token).ConfigureAwait(false); }
        catch (Exception ex) when (ex is not OperationCanceledException and not DockerfileSyntaxException)
        {
            await failed.CancelAsync().ConfigureAwait(false);
            throw new BuildException($"{_scope.File.FileName}:{plan.Stage.From.Location.StartLine}: FROM {reference}: {ex.Message}", ex);
        }
    }

    /// <summary>A <c>--from</c> that names no stage must name an image; one that cannot be found is a missing stage as much as a missing image.</summary>
    private async Task ResolveFromAsync(Instruction at, string name, Reference reference, Platform platform, CancellationTokenSource failed)
    {
        try { await _scope.Images.ResolveAsync(reference, platform, failed.Token).ConfigureAwait(false); }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await failed.CancelAsync().ConfigureAwait(false);
            throw _scope.Error(at, $"{_scope.NoStage(name, at)}, and the image {reference} could not be resolved: {ex.Message.ReplaceLineEndings(" ")}", "from");
        }
    }

    /// <summary>Marks the layer steps of the exported image (the target and the stages it is built FROM), to compress them early.</summary>
    private static void MarkImageLayers(OpNode rootfs)
    {
        var stack = new Stack<OpNode>([rootfs]);
        while (stack.Count > 0)
        {
            OpNode node = stack.Pop();
            if (node.InImage) { continue; }
            node.InImage = true;
            switch (node)
            {
                case FileOp { Parent: { } parent }: stack.Push(parent); break;
                case ExecOp exec: stack.Push(exec.Parent); break;
                case MergeOp merge: stack.Push(merge.Lower); stack.Push(merge.Upper); break;
            }
        }
    }
}
