using System.Globalization;
using Dbuild.Testing;

namespace Dbuild.Oci.Tests;

/// <summary>What a writer killed mid-write leaves in a store (a partial ingest file, a temp index) is swept on the next open, unless its process lives.</summary>
public sealed class ContentStoreTemporariesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Open_TemporariesOfADeadProcess_Removed_OfALiveOneKept()
    {
        string root = ContentStore.Open(_dir.Path).Root;
        int dead = DeadProcessId();
        string live = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        Directory.CreateDirectory(Path.Combine(root, "ingest"));
        string[] abandoned = [Path.Combine(root, "ingest", $"{dead}-0123abcd.partial"), Path.Combine(root, $"index.json.{dead}-0123abcd.tmp")];
        string[] inProgress = [Path.Combine(root, "ingest", $"{live}-0123abcd.partial"), Path.Combine(root, $"index.json.{live}-0123abcd.tmp")];
        foreach (string file in abandoned.Concat(inProgress)) { File.WriteAllText(file, "half"); }

        ContentStore.Open(_dir.Path);

        Assert.All(abandoned, f => Assert.False(File.Exists(f), f));
        Assert.All(inProgress, f => Assert.True(File.Exists(f), f));
    }

    private static int DeadProcessId()
    {
        for (int pid = 4_000_000; pid > 3_000_000; pid -= 7919)
        {
            if (!Directory.Exists($"/proc/{pid}")) { return pid; }
        }
        throw new InvalidOperationException("No free process id found.");
    }
}
