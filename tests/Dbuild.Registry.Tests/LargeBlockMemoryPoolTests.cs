using System.Buffers;
using Dbuild.Registry.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using System.Reflection;

namespace Dbuild.Registry.Tests;

public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void Rent_AnySizeUpToTheBlock_GivesAWholeBlock()
    {
        using var pool = new LargeBlockMemoryPool();
        using IMemoryOwner<byte> small = pool.Rent(16);
        using IMemoryOwner<byte> any = pool.Rent();
        Assert.Equal(LargeBlockMemoryPool.BlockSize, small.Memory.Length);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, any.Memory.Length);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, pool.MaxBufferSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(LargeBlockMemoryPool.BlockSize + 1));
    }

    [Fact]
    public void ReturnedBlock_IsReused_AndADisposedOwnerNoLongerHandsOutMemory()
    {
        using var pool = new LargeBlockMemoryPool();
        IMemoryOwner<byte> first = pool.Rent(100);
        first.Memory.Span[0] = 42;
        byte[] array = GetArray(first.Memory);
        first.Dispose();
        first.Dispose(); // a second dispose must not return the block twice
        using IMemoryOwner<byte> second = pool.Rent(100);
        using IMemoryOwner<byte> third = pool.Rent(100);
        Assert.Same(array, GetArray(second.Memory));
        Assert.NotSame(array, GetArray(third.Memory));
        Assert.Throws<ObjectDisposedException>(() => first.Memory);
    }

    [Fact]
    public async Task RegistryHost_GivesKestrelsSocketTransportTheLargeBlockPool()
    {
        var options = new RegistryOptions { Address = "127.0.0.1:0", StorageRoot = Path.Combine(Path.GetTempPath(), "unused-pool-test") };
        await using WebApplication app = RegistryHost.Create(options);
        using MemoryPool<byte> pool = app.Services.GetRequiredService<IMemoryPoolFactory<byte>>().Create();
        Assert.IsType<LargeBlockMemoryPool>(pool);
        // The transport reads its factory from an internal option set from DI; check the wiring Kestrel will really use.
        SocketTransportOptions transport = app.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;
        object? used = typeof(SocketTransportOptions).GetProperty("MemoryPoolFactory", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(transport);
        Assert.IsType<LargeBlockMemoryPool.Factory>(used);
    }

    private static byte[] GetArray(Memory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out ArraySegment<byte> segment) ? segment.Array! : throw new InvalidOperationException("not array-backed");
}
