namespace Dbuild.Dockerfile;

/// <summary>The checks that fired and whether they fail the build (<c>error=true</c>).</summary>
/// <param name="Checks">Fired checks, by line.</param>
/// <param name="Config">The check configuration in effect.</param>
public sealed record BuildCheckReport(IReadOnlyList<BuildCheck> Checks, BuildCheckConfig Config)
{
    /// <summary>True when <c># check=error=true</c> is set and a check fired.</summary>
    public bool Failed => Config.Error && Checks.Count > 0;
}
