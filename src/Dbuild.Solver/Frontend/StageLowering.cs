using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Frontend;

/// <summary>
/// Lowers one stage: its base (scratch, an earlier stage, or an image with its ONBUILD triggers), then each instruction
/// expanded against the stage's ARG/ENV scope: config instructions change the image config, WORKDIR/COPY/ADD/RUN add ops.
/// </summary>
internal sealed class StageLowering(LoweringScope scope, StagePlan plan, IReadOnlyList<StagePlan> plans)
{
    private static readonly string[] DefaultPath = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

    public void Lower()
    {
        Stage stage = plan.Stage;
        StageState config;
        OpNode rootfs;
        if (stage.IsScratch)
        {
            // BuildKit gives a scratch stage the default PATH and WorkingDir "/".
            config = new StageState { BaseConfig = new ImageConfig(scope.Target) { Config = new ContainerConfig { WorkingDir = "/" } }, Env = [.. DefaultPath] };
            rootfs = scope.Graph.Add(new ScratchOp(plan.Platform));
        }
        else if (stage.BaseStage is { } parent)
        {
            config = plans[parent.Index].Config!.Fork();
            rootfs = plans[parent.Index].Rootfs!;
        }
        else
        {
            config = StageState.FromImage(plan.Image!.Config);
            rootfs = null!; // the FROM op is named below, once the step count (with triggers) is known
        }
        List<Instruction> triggers = Triggers(config);
        config.OnBuild.Clear();
        int total = 1 + triggers.Concat(stage.Instructions).Count(IsStep);
        if (plan.Image is { } image && stage.BaseStage is null)
        {
            rootfs = scope.Graph.Add(new ImageSourceOp(image, plan.Platform)
            {
                Name = $"{scope.Prefix(plan, 1, total)} FROM {image.Reference}@{image.ManifestDigest}",
                Origin = new StepOrigin(scope.StepId(plan, 0), plan.DisplayName),
            });
        }
        var stageScope = new StageScope(scope.Model, Environment(config.Env));
        var files = new CopyLowering(scope, plan, plans);
        var runs = new RunLowering(scope, plan, plans);
        int step = 1;
        int position = 0;
        foreach (Instruction raw in triggers.Concat(stage.Instructions))
        {
            position++;
            if (IsStep(raw)) { step++; }
            string name = $"{scope.Prefix(plan, step, total)} {DisplayText(raw)}";
            var origin = new StepOrigin(scope.StepId(plan, position), plan.DisplayName);
            Instruction expanded = stageScope.Expand(raw);
            switch (expanded)
            {
                case WorkdirInstruction workdir:
                    rootfs = Workdir(workdir, config, rootfs, name, origin);
                    break;
                case FileInstruction file:
                    rootfs = files.Lower((FileInstruction)raw, file, config, rootfs, name, origin);
                    break;
                case RunInstruction run:
                    rootfs = runs.Lower((RunInstruction)raw, run, stageScope, config, rootfs, name, origin);
                    break;
                default:
                    if (ConfigInstructions.Apply(config, expanded) is { } history) { config.AddHistory(history, scope.Now); }
                    break;
            }
        }
        plan.Rootfs = rootfs;
        plan.Config = config;
    }

    private OpNode Workdir(WorkdirInstruction workdir, StageState config, OpNode rootfs, string name, StepOrigin origin)
    {
        string path = workdir.Path;
        string absolute = "/" + CopyPlanner.Clean(path.StartsWith('/') ? path : config.WorkingDir.TrimEnd('/') + "/" + path);
        config.WorkingDir = absolute;
        if (absolute == "/")
        {
            config.AddHistory("WORKDIR " + absolute, scope.Now);
            return rootfs;
        }
        OpNode mkdir = scope.Graph.Add(new FileOp(rootfs, new MkdirAction(absolute, config.User)) { Name = name, Origin = origin });
        config.AddHistory("WORKDIR " + absolute, scope.Now, mkdir);
        return mkdir;
    }

    /// <summary>The base's ONBUILD triggers, parsed and checked like any instruction (they run before the stage's own).</summary>
    private List<Instruction> Triggers(StageState config)
    {
        var triggers = new List<Instruction>();
        foreach (string trigger in config.OnBuild)
        {
            ParsedDockerfile parsed = DockerfileParser.Parse(trigger, $"ONBUILD in {plan.Stage.BaseName}");
            triggers.AddRange(InstructionParser.ParseAll(parsed));
        }
        return triggers;
    }

    private static Dictionary<string, string> Environment(IEnumerable<string> env)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string e in env)
        {
            int eq = e.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) { map[e[..eq]] = e[(eq + 1)..]; }
        }
        return map;
    }

    private static bool IsStep(Instruction i) => i is CopyInstruction or AddInstruction or RunInstruction or WorkdirInstruction;

    /// <summary>The instruction as progress shows it: keyword upper case, the rest as written.</summary>
    private static string DisplayText(Instruction i)
    {
        string original = i.Original.Trim();
        int space = original.IndexOfAny([' ', '\t']);
        return space < 0 ? i.Keyword.ToUpperInvariant() : i.Keyword.ToUpperInvariant() + original[space..];
    }
}
