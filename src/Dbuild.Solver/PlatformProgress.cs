using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// Progress of a multi-platform build: each platform's sessions report through their own tracker, and this numbers all
/// their vertices in one sequence (with the build's own vertices) and names them as BuildKit does then:
/// <c>[linux/arm64 build 2/3] RUN …</c>, <c>[linux/arm64 internal] load metadata for …</c>.
/// </summary>
internal sealed class PlatformProgress(IBuildProgress sink, StrongBox<int> numbering, Platform? platform) : IBuildProgress
{
    private readonly ConcurrentDictionary<int, int> _ids = new();

    public void Report(ProgressEvent progressEvent)
    {
        ArgumentNullException.ThrowIfNull(progressEvent);
        sink.Report(progressEvent with { Vertex = Id(progressEvent.Vertex), Name = Name(progressEvent.Name) });
    }

    /// <summary>The build-wide number of this tracker's vertex <paramref name="local"/> (given on its first event).</summary>
    public int Id(int local) => _ids.GetOrAdd(local, _ => Interlocked.Increment(ref numbering.Value));

    /// <summary>The name with the platform inside its leading <c>[…]</c>, or in front of it.</summary>
    public string Name(string name)
    {
        if (platform is null) { return name; }
        return name.StartsWith('[') ? $"[{platform} {name[1..]}" : $"[{platform}] {name}";
    }
}
