using Dbuild.Dockerfile;
using Dbuild.Oci;
using Dbuild.Solver.Graph;
using Dbuild.Solver.Ops;

namespace Dbuild.Solver.Frontend;

/// <summary>
/// The Dockerfile frontend of a build: the file, checked as a whole (every instruction and flag, the target), then
/// lowered once per target platform into one graph, where identical ops of different platforms become one node.
/// </summary>
internal static class DockerfileFrontend
{
    /// <summary>The typed model for one platform: every instruction parsed and checked, the target found.</summary>
    public static DockerfileModel Model(ParsedDockerfile file, BuildRequest request, Platform platform)
    {
        try
        {
            return DockerfileModel.Create(file, new BuildOptions
            {
                BuildArgs = request.BuildArgs,
                Target = request.Target,
                TargetPlatform = platform.ToString(),
                BuildPlatform = Platform.Current.ToString(),
            });
        }
        catch (ArgumentException ex)
        {
            throw file.Error(0, 0, ex.Message); // the target: no line to point at
        }
    }

    /// <summary>
    /// Lowers the file for every platform into <paramref name="graph"/>: images of all platforms resolve side by side,
    /// then the ops are added platform by platform.
    /// </summary>
    public static async Task<IReadOnlyList<LoweredImage>> LowerAsync(ParsedDockerfile file, SolveContext context, IReadOnlyList<Platform> platforms, BuildGraph graph,
        CancellationToken cancellationToken)
    {
        bool multi = platforms.Count > 1;
        var images = new ImageSources(context, multi);
        var lowerings = new List<DockerfileLowering>();
        foreach (Platform platform in platforms)
        {
            DockerfileModel model = Model(file, context.Request, platform);
            lowerings.Add(new DockerfileLowering(new LoweringScope(file, model, context.Request, graph, images, platform, multi, context.Now)));
        }
        if (file.Instructions.Any(n => n.Value is "copy" or "add" && !n.Flags.Any(f => f.StartsWith("--from", StringComparison.Ordinal))))
        {
            context.WarmUpContext(Path.GetFullPath(context.Request.ContextDirectory), cancellationToken);
        }
        await Task.WhenAll(lowerings.Select(l => l.PrepareAsync(cancellationToken))).ConfigureAwait(false);
        return [.. lowerings.Select(l => l.Lower())];
    }
}
