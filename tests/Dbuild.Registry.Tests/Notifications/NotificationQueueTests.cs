using System.Text;
using Dbuild.Registry.Notifications;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.Tests.Notifications;

/// <summary>The storage queue on the filesystem driver: order, create-if-absent, and claims shared by replicas.</summary>
public sealed class NotificationQueueTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 6, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private readonly Dbuild.Testing.TempDirectory _dir = new();
    private readonly NotificationQueue _queue;

    public NotificationQueueTests() => _queue = new NotificationQueue(new FileSystemDriver(_dir.Path));

    public void Dispose() => _dir.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Oldest_ListsInTimeOrder_AndEnqueueNeverOverwrites()
    {
        string later = NotificationQueue.ItemName(Now.AddSeconds(1), "b"), earlier = NotificationQueue.ItemName(Now, "z");
        await _queue.EnqueueAsync("hook", later, "{\"later\":1}"u8.ToArray(), Ct);
        await _queue.EnqueueAsync("hook", earlier, "{\"earlier\":1}"u8.ToArray(), Ct);
        await _queue.EnqueueAsync("hook", earlier, "{\"again\":1}"u8.ToArray(), Ct);
        Assert.Equal([earlier, later], await _queue.OldestAsync("hook", 10, Ct));
        Assert.Equal("{\"earlier\":1}", Encoding.UTF8.GetString((await _queue.ReadAsync("hook", earlier, Ct))!));
        Assert.Equal(2, await _queue.CountAsync("hook", Ct));
    }

    [Fact]
    public async Task TryClaim_HeldByAnotherReplica_IsRefusedUntilTheLeaseEnds()
    {
        string name = NotificationQueue.ItemName(Now, "e1");
        await _queue.EnqueueAsync("hook", name, "{}"u8.ToArray(), Ct);
        Assert.NotNull(await _queue.TryClaimAsync("hook", name, "replica-a", Now, Now + Lease, Ct));
        Assert.Null(await _queue.TryClaimAsync("hook", name, "replica-b", Now.AddSeconds(29), Now.AddSeconds(29) + Lease, Ct));
        Assert.NotNull(await _queue.TryClaimAsync("hook", name, "replica-b", Now.AddSeconds(31), Now.AddSeconds(31) + Lease, Ct));
    }

    [Fact]
    public async Task Renew_AfterATakeOver_FailsSoOnlyTheNewHolderSends()
    {
        string name = NotificationQueue.ItemName(Now, "e2");
        await _queue.EnqueueAsync("hook", name, "{}"u8.ToArray(), Ct);
        string first = (await _queue.TryClaimAsync("hook", name, "replica-a", Now, Now + Lease, Ct))!;
        string second = (await _queue.TryClaimAsync("hook", name, "replica-b", Now.AddMinutes(1), Now.AddMinutes(1) + Lease, Ct))!;
        Assert.Null(await _queue.RenewAsync("hook", name, first, "replica-a", Now.AddMinutes(1) + Lease, Ct));
        Assert.NotNull(await _queue.RenewAsync("hook", name, second, "replica-b", Now.AddMinutes(1) + Lease, Ct));
    }

    [Fact]
    public async Task Complete_RemovesEventAndClaim_ReleaseLetsAnotherReplicaClaimAtOnce()
    {
        string a = NotificationQueue.ItemName(Now, "a"), b = NotificationQueue.ItemName(Now, "b");
        await _queue.EnqueueAsync("hook", a, "{}"u8.ToArray(), Ct);
        await _queue.EnqueueAsync("hook", b, "{}"u8.ToArray(), Ct);
        string claimA = (await _queue.TryClaimAsync("hook", a, "replica-a", Now, Now + Lease, Ct))!;
        await _queue.CompleteAsync("hook", a, claimA, Ct);
        Assert.Equal([b], await _queue.OldestAsync("hook", 10, Ct));
        string claimB = (await _queue.TryClaimAsync("hook", b, "replica-a", Now, Now + Lease, Ct))!;
        Assert.True(await _queue.ReleaseAsync("hook", b, claimB, Ct));
        Assert.NotNull(await _queue.TryClaimAsync("hook", b, "replica-b", Now, Now + Lease, Ct));
    }
}
