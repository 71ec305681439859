using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs.Specialized;
using Dbuild.Registry.Storage;

namespace Dbuild.Registry.AzureBlob;

/// <summary>
/// Stages a request body as uncommitted blocks of one block blob: the body is cut into blocks of
/// <see cref="BlockSize"/> held in pooled buffers, up to <see cref="MaxInFlight"/> uploading at once, so memory per
/// upload is bounded whatever the body's size. Each block gets a fresh random id; a part's <see cref="StagedPart.Id"/> is
/// its block ids, space-separated, which the caller records and <see cref="AzureBlobDriver.CommitStagedAsync"/> commits.
/// </summary>
/// <remarks>
/// Azure cannot tell how many bytes are staged (uncommitted blocks have no order until committed), so the offset is not
/// checked here: the caller's conditional write of its upload state decides which of two racing appends counts, and
/// blocks no committed list names are dropped by Azure.
/// </remarks>
internal static class AzureBlockStager
{
    internal const int BlockSize = 4 * 1024 * 1024;
    internal const int MaxInFlight = 4;

    /// <summary>Every block id of a blob must have the same length: base64 of 32 random hex characters (44 characters).</summary>
    internal static string NewBlockId()
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        return Convert.ToBase64String(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(random)));
    }

    internal static IEnumerable<string> BlockIds(StagedPart part) =>
        part.Id.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public static async Task<StagedPart> StageAsync(BlockBlobClient blob, long offset, PipeReader content, Action<ReadOnlySequence<byte>> observe,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(observe);
        var ids = new List<string>();
        var inFlight = new List<Task>();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        byte[]? block = null;
        int filled = 0;
        long total = 0;
        try
        {
            while (true)
            {
                ReadResult result = await content.ReadAsync(cancellationToken).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    block ??= ArrayPool<byte>.Shared.Rent(BlockSize);
                    int take = (int)Math.Min(buffer.Length, BlockSize - filled);
                    ReadOnlySequence<byte> slice = buffer.Slice(0, take);
                    slice.CopyTo(block.AsSpan(filled));
                    observe(slice);
                    (filled, total, buffer) = (filled + take, total + take, buffer.Slice(take));
                    if (filled == BlockSize)
                    {
                        await SendAsync(blob, block, filled, ids, inFlight, failed).ConfigureAwait(false);
                        (block, filled) = (null, 0);
                    }
                }
                content.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) { break; }
            }
            if (filled > 0)
            {
                await SendAsync(blob, block!, filled, ids, inFlight, failed).ConfigureAwait(false);
                block = null;
            }
            await Task.WhenAll(inFlight).ConfigureAwait(false);
        }
        catch
        {
            await failed.CancelAsync().ConfigureAwait(false);
            try { await Task.WhenAll(inFlight).ConfigureAwait(false); }
            catch (Exception) when (inFlight.Count > 0) { } // the first failure is the one rethrown
            throw;
        }
        finally
        {
            if (block is not null) { ArrayPool<byte>.Shared.Return(block); }
        }
        return new StagedPart(string.Join(' ', ids), offset, total);
    }

    /// <summary>Starts one block's upload (it returns its buffer to the pool when done), first waiting for a free slot.</summary>
    private static async Task SendAsync(BlockBlobClient blob, byte[] block, int length, List<string> ids, List<Task> inFlight, CancellationTokenSource failed)
    {
        while (inFlight.Count >= MaxInFlight)
        {
            Task done = await Task.WhenAny(inFlight).ConfigureAwait(false);
            inFlight.Remove(done);
            await done.ConfigureAwait(false); // surfaces a failed block at once
        }
        string id = NewBlockId();
        ids.Add(id);
        inFlight.Add(UploadAsync(blob, id, block, length, failed.Token));
    }

    private static async Task UploadAsync(BlockBlobClient blob, string id, byte[] block, int length, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = new MemoryStream(block, 0, length, writable: false);
            await blob.StageBlockAsync(id, stream, options: null, cancellationToken).ConfigureAwait(false);
        }
        finally { ArrayPool<byte>.Shared.Return(block); }
    }
}
