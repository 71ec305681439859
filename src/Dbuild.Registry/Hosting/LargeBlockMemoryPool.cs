using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace Dbuild.Registry.Hosting;

/// <summary>
/// Kestrel's transport memory pool, with blocks of <see cref="BlockSize"/> instead of Kestrel's 4 KiB. The socket
/// transport receives into one pool block per <c>recv</c>, so 4 KiB blocks cost a syscall (and a pipe round trip) per
/// 4 KiB of a layer upload; with 128 KiB blocks a 1 GiB push needs 32× fewer. Blocks are pinned arrays kept in a
/// bounded free list, so memory stays flat: at most <see cref="MaxFreeBlocks"/> idle blocks are retained.
/// </summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 128 * 1024;
    private const int MaxFreeBlocks = 64;

    private readonly ConcurrentQueue<byte[]> _free = new();
    private int _freeCount;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out byte[]? array)) { Interlocked.Decrement(ref _freeCount); }
        else { array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true); }
        return new Block(this, array);
    }

    private void Return(byte[] array)
    {
        if (Interlocked.Increment(ref _freeCount) <= MaxFreeBlocks) { _free.Enqueue(array); }
        else { Interlocked.Decrement(ref _freeCount); }
    }

    protected override void Dispose(bool disposing)
    {
        _free.Clear();
    }

    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        /// <summary>Marked as pre-pinned, so the socket layer's <c>Pin()</c> takes no GC handle.</summary>
        public Memory<byte> Memory => MemoryMarshal.CreateFromPinnedArray(_array ?? throw new ObjectDisposedException(nameof(Block)), 0, BlockSize);

        public void Dispose()
        {
            byte[]? array = Interlocked.Exchange(ref _array, null);
            if (array is not null) { pool.Return(array); }
        }
    }

    /// <summary>Hands Kestrel's transport (and anything else asking DI for a pool) a <see cref="LargeBlockMemoryPool"/>.</summary>
    internal sealed class Factory : IMemoryPoolFactory<byte>
    {
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
    }
}
