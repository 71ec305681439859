using System.Text.Json;
using Dbuild.Oci;
using Dbuild.Oci.Layers;
using Dbuild.Runtime;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Runtime;

/// <summary>One state root and executor for a test class, plus the offline busybox image as a layer chain.</summary>
public sealed class RuntimeFixture : IDisposable
{
    public RuntimeFixture()
    {
        StateRoot = Directory.CreateTempSubdirectory("dbuild-runtime-").FullName;
    }

    public string StateRoot { get; }

    public static IReadOnlyList<LayerSource> BusyboxLayers()
    {
        string layout = Prerequisites.RequireBusyboxLayout();
        using JsonDocument index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        string manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllBytes(Blob(layout, manifestDigest)));
        string configDigest = manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
        using JsonDocument config = JsonDocument.Parse(File.ReadAllBytes(Blob(layout, configDigest)));
        var diffIds = config.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(e => Digest.Parse(e.GetString()!)).ToList();
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().Select(e => e.GetProperty("digest").GetString()!).ToList();
        return [.. layers.Select((digest, i) => new LayerSource(diffIds[i], _ => Task.FromResult<Stream>(File.OpenRead(Blob(layout, digest)))))];
    }

    private static string Blob(string layout, string digest) => Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]);

    public static void RequireRuntime()
    {
        Prerequisites.RequireRoot("runc, overlay mounts and namespaces");
        Prerequisites.RequireTool("runc", "runc");
    }

    public StepExecutor CreateExecutor(OciRuntimeKind runtime = OciRuntimeKind.Runc, SnapshotterKind snapshotter = SnapshotterKind.Auto) =>
        new(new StepExecutorOptions { StateRoot = StateRoot, Runtime = runtime, Snapshotter = snapshotter });

    /// <summary>The layer chain after a step: the parent's layers plus the new one, read back from its file.</summary>
    public static IReadOnlyList<LayerSource> Append(IReadOnlyList<LayerSource> parent, StepResult result) => result.IsEmptyLayer ? parent :
        [.. parent, new LayerSource(result.Layer!.DiffId, _ => Task.FromResult<Stream>(File.OpenRead(result.LayerPath!)))];

    public static async Task<Dictionary<string, LayerEntry>> ReadLayerAsync(StepResult result, CancellationToken cancellationToken)
    {
        Assert.False(result.IsEmptyLayer, "the step should have produced a layer");
        var entries = new Dictionary<string, LayerEntry>(StringComparer.Ordinal);
        await using FileStream blob = File.OpenRead(result.LayerPath!);
        await foreach (LayerEntry entry in LayerReader.ReadEntriesAsync(blob, cancellationToken)) { entries.Add(entry.Path, entry); }
        return entries;
    }

    public static StepRequest Shell(IReadOnlyList<LayerSource> layers, string script, List<string>? output = null) => new()
    {
        Layers = layers,
        Args = ["/bin/sh", "-c", script],
        Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Output = output is null ? null : line => { lock (output) { output.Add(line.Text); } },
    };

    /// <summary>Mount points under the state root that are still mounted (there must be none after any step).</summary>
    public List<string> LeftoverMounts() =>
        [.. File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(p => p.StartsWith(StateRoot, StringComparison.Ordinal))];

    public void Dispose()
    {
        foreach (string mount in LeftoverMounts()) { ProcessRunner.RunAsync("umount", ["-l", mount], CancellationToken.None).Wait(); }
        try { Directory.Delete(StateRoot, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
