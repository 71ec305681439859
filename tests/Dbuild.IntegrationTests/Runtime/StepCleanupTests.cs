using Dbuild.Oci;
using Dbuild.Runtime;
using Dbuild.Testing;

namespace Dbuild.IntegrationTests.Runtime;

/// <summary>
/// Whatever ends a step (cancellation at any point, a failure while another step runs, two steps making the same
/// snapshot), nothing stays behind: no mount under the state root in /proc/self/mountinfo, no step directory under
/// runtime/work, no container in <c>runc --root … list</c>, no staging directory among the snapshots.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StepCleanupTests(RuntimeFixture fixture) : IClassFixture<RuntimeFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private string SnapshotsDirectory => Path.Combine(fixture.StateRoot, "runtime", "snapshots");

    private string LayerTempDirectory => Path.Combine(fixture.StateRoot, "runtime", "tmp");

    private async Task AssertNothingLeftAsync(StepExecutor executor)
    {
        Assert.Empty(fixture.LeftoverMounts());
        Assert.Empty(Directory.EnumerateFileSystemEntries(executor.WorkDirectory));
        ProcessResult list = (await ProcessRunner.RunAsync(Prerequisites.RequireTool("runc", "runc"), ["--root", executor.RuntimeStateDirectory, "list", "-q"], Token)).EnsureSuccess();
        Assert.Equal("", list.StandardOutput.Trim());
        Assert.Empty(Directory.EnumerateFileSystemEntries(executor.RuntimeStateDirectory));
        Assert.Empty(Directory.EnumerateDirectories(SnapshotsDirectory, "tmp-*"));
    }

    private static StepRequest SignalOn(StepRequest request, string line, TaskCompletionSource signal) =>
        request with { Output = l => { if (l.Text == line) { signal.TrySetResult(); } } };

    [Fact]
    public async Task Cancel_LongSleepWithEveryKindOfMount_LeavesNothing()
    {
        RuntimeFixture.RequireRuntime();
        StepExecutor executor = fixture.CreateExecutor();
        using var context = new TempDirectory();
        var busybox = RuntimeFixture.BusyboxLayers();
        var cache = new CacheMount { Target = "/cache", Id = "cleanup-" + Guid.NewGuid().ToString("N"), Sharing = CacheSharing.Locked };
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StepRequest request = SignalOn(RuntimeFixture.Shell(busybox, "echo started; sleep 600"), "started", started) with
        {
            Mounts =
            [
                new BindMount { Target = "/ctx", Source = context.Path, ReadWrite = true }, // an overlay over the context
                new BindMount { Target = "/other", SourceLayers = busybox, ReadWrite = true }, // an overlay of a layer chain
                new TmpfsMount { Target = "/scratch" },
                new SecretMount { Target = "/run/secrets/s", Id = "s", Value = "v"u8.ToArray() }, // a tmpfs on the host
                cache,
            ],
        };
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        Task<StepResult> step = executor.RunAsync(request, cancel.Token);
        await started.Task.WaitAsync(Bound, Token);
        Assert.NotEmpty(fixture.LeftoverMounts()); // the step really had its mounts
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => step);
        await AssertNothingLeftAsync(executor);
        // the locked cache was released: the next step using it runs
        await executor.RunAsync(RuntimeFixture.Shell(busybox, "true") with { Mounts = [cache] }, Token).WaitAsync(Bound, Token);
    }

    [Fact]
    public async Task Fail_WhileAnotherStepRuns_TheOtherIsCancelledAndBothAreCleanedUp()
    {
        RuntimeFixture.RequireRuntime();
        StepExecutor executor = fixture.CreateExecutor();
        var busybox = RuntimeFixture.BusyboxLayers();
        using var build = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<StepResult> sleeper = executor.RunAsync(SignalOn(RuntimeFixture.Shell(busybox, "echo started; sleep 600"), "started", started), build.Token);
        await started.Task.WaitAsync(Bound, Token);

        Task<StepResult> failing = executor.RunAsync(RuntimeFixture.Shell(busybox, "echo partial > /written; exit 3"), build.Token);
        StepFailedException failure = await Assert.ThrowsAsync<StepFailedException>(() => failing);
        Assert.Equal(3, failure.ExitCode);
        await build.CancelAsync(); // what the solver does when one step fails

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sleeper);
        await AssertNothingLeftAsync(executor);
        Assert.Empty(Directory.Exists(LayerTempDirectory) ? Directory.EnumerateFiles(LayerTempDirectory) : []);
    }

    [Fact]
    public async Task Cancel_WhileUnpackingTheParentSnapshot_LeavesNoStagingDirectory()
    {
        RuntimeFixture.RequireRuntime();
        StepExecutor executor = fixture.CreateExecutor();
        var stalling = new StallingStream();
        Digest neverSeen = Digest.Compute(Guid.NewGuid().ToByteArray());
        IReadOnlyList<Dbuild.Runtime.LayerSource> layers = [.. RuntimeFixture.BusyboxLayers(), new(neverSeen, _ => Task.FromResult<Stream>(stalling))];
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        Task<StepResult> step = executor.RunAsync(RuntimeFixture.Shell(layers, "true"), cancel.Token);
        await stalling.Stalled.WaitAsync(Bound, Token);
        Assert.NotEmpty(Directory.EnumerateDirectories(SnapshotsDirectory, "tmp-*")); // the unpack was under way
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => step);
        await AssertNothingLeftAsync(executor);
    }

    [Fact]
    public async Task Cancel_WhileWritingTheLayer_LeavesNoLayerFileAndNoSnapshot()
    {
        RuntimeFixture.RequireRuntime();
        StepExecutor executor = fixture.CreateExecutor();
        var busybox = RuntimeFixture.BusyboxLayers();
        await executor.RunAsync(RuntimeFixture.Shell(busybox, "true"), Token); // the parent's snapshot exists before
        string[] snapshotsBefore = [.. Directory.EnumerateDirectories(SnapshotsDirectory)];
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        Task<StepResult> step = executor.RunAsync(RuntimeFixture.Shell(busybox, "head -c 134217728 /dev/urandom > /big") with
        {
            Compression = LayerCompression.Gzip,
        }, cancel.Token);
        // the layer file appears when the step's process has exited and the layer is being written
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token))
        {
            timeout.CancelAfter(Bound);
            while (!(Directory.Exists(LayerTempDirectory) && Directory.EnumerateFiles(LayerTempDirectory, "*.layer").Any()))
            {
                Assert.False(step.IsCompleted, "the step ended before its layer was written");
                await Task.Delay(5, timeout.Token);
            }
        }
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => step);
        await AssertNothingLeftAsync(executor);
        Assert.Empty(Directory.EnumerateFiles(LayerTempDirectory));
        Assert.Equal(snapshotsBefore.Order(StringComparer.Ordinal), Directory.EnumerateDirectories(SnapshotsDirectory).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Concurrent_StepsMakingTheSameLayer_OneSnapshotAndBothLayers()
    {
        RuntimeFixture.RequireRuntime();
        StepExecutor executor = fixture.CreateExecutor();
        var busybox = RuntimeFixture.BusyboxLayers();
        // SOURCE_DATE_EPOCH makes the two layers byte-identical, so both steps commit the same chain
        StepRequest request = RuntimeFixture.Shell(busybox, "echo same > /same-" + Guid.NewGuid().ToString("N")[..8]) with
        {
            SourceDateEpoch = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
        };
        StepResult[] results = await Task.WhenAll(executor.RunAsync(request, Token), executor.RunAsync(request, Token)).WaitAsync(Bound, Token);
        Assert.Equal(results[0].Layer!.DiffId, results[1].Layer!.DiffId);
        await AssertNothingLeftAsync(executor);

        Digest chainId = Dbuild.Runtime.SnapshotStore.ChainIds([.. busybox.Select(l => l.DiffId), results[0].Layer!.DiffId])[^1];
        Assert.Equal(chainId.ToString(), await File.ReadAllTextAsync(Path.Combine(SnapshotsDirectory, chainId.Encoded[..16], "chainid"), Token));
        var chain = RuntimeFixture.Append(busybox, results[0]);
        var output = new List<string>();
        await executor.RunAsync(RuntimeFixture.Shell(chain, "cat /same-*", output), Token);
        Assert.Equal(["same"], output);
        foreach (StepResult result in results) { File.Delete(result.LayerPath!); } // the caller's to keep or delete
    }

    [Fact]
    public async Task Cleanup_MountNobodyRegistered_IsDetachedBeforeTheDirectoryIsDeleted()
    {
        // e.g. a mount(8) of a long overlay that completed while its step was being cancelled
        RuntimeFixture.RequireRuntime();
        string directory = Path.Combine(fixture.StateRoot, "runtime", "work", "dbuild-" + Guid.NewGuid().ToString("N")[..16]);
        string target = Path.Combine(directory, "mounts", "1", "merged");
        Directory.CreateDirectory(target);
        (await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "tmpfs", target], Token)).EnsureSuccess();
        (await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "tmpfs", target], Token)).EnsureSuccess(); // stacked
        await File.WriteAllTextAsync(Path.Combine(target, "inside"), "x", Token);

        List<string> problems = new StepContext(directory).Cleanup();
        Assert.Empty(problems);
        Assert.Empty(fixture.LeftoverMounts());
        Assert.False(Directory.Exists(directory));
    }
}
