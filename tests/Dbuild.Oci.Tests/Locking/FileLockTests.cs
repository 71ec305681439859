using System.Diagnostics;
using Dbuild.Oci.Locking;
using Dbuild.Testing;

namespace Dbuild.Oci.Tests.Locking;

public sealed class FileLockTests : IDisposable
{
    private readonly TempDirectory _dir = new("dbuild-filelock-");

    public void Dispose() => _dir.Dispose();

    private string LockPath => _dir.Combine("locks", "x.lock");

    [Fact]
    public void TryAcquire_ExclusiveHeld_ReturnsNullUntilDisposed()
    {
        using (FileLock held = FileLock.TryAcquire(LockPath)!)
        {
            Assert.NotNull(held);
            Assert.Null(FileLock.TryAcquire(LockPath)); // another holder in this process conflicts as another process would
            Assert.Null(FileLock.TryAcquire(LockPath, FileLockMode.Shared));
        }
        using FileLock? again = FileLock.TryAcquire(LockPath);
        Assert.NotNull(again);
    }

    [Fact]
    public void TryAcquire_SharedHeld_SharedSucceedsExclusiveFails()
    {
        using FileLock first = FileLock.TryAcquire(LockPath, FileLockMode.Shared)!;
        using FileLock? second = FileLock.TryAcquire(LockPath, FileLockMode.Shared);

        Assert.NotNull(second);
        Assert.Null(FileLock.TryAcquire(LockPath, FileLockMode.Exclusive));
    }

    [Fact]
    public void TryUpgrade_OtherSharedHolder_False_AloneTrue()
    {
        FileLock a = FileLock.TryAcquire(LockPath, FileLockMode.Shared)!;
        using FileLock b = FileLock.TryAcquire(LockPath, FileLockMode.Shared)!;
        Assert.False(a.TryUpgrade());
        a.Dispose();

        Assert.True(b.TryUpgrade());
        Assert.Null(FileLock.TryAcquire(LockPath, FileLockMode.Shared));
    }

    [Fact]
    public async Task AcquireAsync_Held_WaitsAnnouncesOnceAndGetsItOnRelease()
    {
        FileLock held = FileLock.TryAcquire(LockPath)!;
        int announced = 0;
        Task<FileLock> waiting = FileLock.AcquireAsync(LockPath, FileLockMode.Exclusive, () => Interlocked.Increment(ref announced), TestContext.Current.CancellationToken);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);

        held.Dispose();
        using FileLock acquired = await waiting.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(1, announced);
    }

    [Fact]
    public async Task AcquireAsync_Cancelled_ThrowsAndHoldsNothing()
    {
        using (FileLock.TryAcquire(LockPath))
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FileLock.AcquireAsync(LockPath, FileLockMode.Exclusive, null, cancel.Token));
        }
        using FileLock? free = FileLock.TryAcquire(LockPath);
        Assert.NotNull(free);
    }

    [Fact]
    public async Task TryAcquire_HeldByAnotherProcessThatIsKilled_FreeAfterTheKill()
    {
        // util-linux flock(1): a real flock(2) holder in another process, killed with SIGKILL. With -o only flock itself
        // holds the lock (its child does not inherit the descriptor), so once flock is reaped the lock is free; without
        // it the dying child could still hold it for a moment (seen once in CI).
        Directory.CreateDirectory(Path.GetDirectoryName(LockPath)!);
        var start = new ProcessStartInfo("flock") { ArgumentList = { "-o", "-x", LockPath, "sh", "-c", "echo locked; exec sleep 30" }, RedirectStandardOutput = true };
        using Process holder = Process.Start(start)!;
        Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken));
        Assert.Null(FileLock.TryAcquire(LockPath, FileLockMode.Shared));

        holder.Kill(entireProcessTree: true);
        await holder.WaitForExitAsync(TestContext.Current.CancellationToken);

        using FileLock? free = FileLock.TryAcquire(LockPath);
        Assert.NotNull(free);
    }
}
