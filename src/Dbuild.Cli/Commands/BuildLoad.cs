using Dbuild.Solver;
using Dbuild.Solver.Store;

namespace Dbuild.Cli.Commands;

/// <summary><c>dbuild build --load</c> (buildx's): the built image into the local docker daemon (DOCKER_HOST, else /var/run/docker.sock).</summary>
internal static class BuildLoad
{
    public static async Task RunAsync(string root, BuildRequest request, BuildResult result, CancellationToken cancellationToken)
    {
        if (result.Images.Count > 0) { throw new BuildException("--load: docker exporter does not currently support exporting manifest lists; build one --platform at a time"); }
        string host = Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } h ? h : "unix:///var/run/docker.sock";
        var images = new LocalImages(root);
        var image = new LocalImage("", result.Manifest, result.ImageId, null, 0);
        IReadOnlyList<string> lines = await new DockerEngineLoader(images, host).LoadAsync([new SaveItem(image, [.. request.Tags.Select(t => t.ToString())])], cancellationToken);
        foreach (string line in lines) { await Console.Error.WriteLineAsync(line); }
    }
}
