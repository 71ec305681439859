using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Frontend;

/// <summary>One stage as lowering sees it: its platform, what it is built on, and (once lowered) its filesystem op and config.</summary>
internal sealed class StagePlan(Stage stage, Platform platform)
{
    public Stage Stage { get; } = stage;

    /// <summary>The platform the stage runs on: its FROM --platform, its parent stage's, or the target's.</summary>
    public Platform Platform { get; } = platform;

    /// <summary>The image the stage is built on (a named context may have replaced the FROM's name); null for scratch or a stage.</summary>
    public Reference? ImageReference { get; init; }

    /// <summary>The image, once resolved.</summary>
    public BaseImage? Image { get; set; }

    /// <summary>The stage's filesystem op after its last instruction, once lowered.</summary>
    public OpNode? Rootfs { get; set; }

    /// <summary>The stage's image config after its last instruction, once lowered.</summary>
    public StageState? Config { get; set; }

    /// <summary>How progress and messages name the stage.</summary>
    public string DisplayName => Stage.Name ?? $"stage-{Stage.Index}";
}

/// <summary>What lowering gives for one target platform: the target stage's filesystem op and its image config.</summary>
internal sealed record LoweredImage(Platform Platform, OpNode Rootfs, StageState Config);
