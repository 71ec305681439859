using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Win32.SafeHandles;

namespace Dbuild.Registry.Storage;

public sealed partial class FileSystemDriver
{
    /// <summary>The part id of bytes appended to the staged file itself, at the part's own offset.</summary>
    private const string InPlacePart = "";

    /// <summary>
    /// Appends to the staged file in place when it holds exactly <paramref name="offset"/> bytes (the usual case: one
    /// writer, no copy later). When it holds more — bytes of an append that failed before the caller recorded it, or of
    /// a concurrent writer whose record may yet win — the part goes to a side file instead, so no recorded byte is ever
    /// overwritten; <see cref="CommitStagedAsync"/> assembles the recorded parts. Fewer bytes than recorded is corruption.
    /// </summary>
    public async Task<StagedPart> StageAsync(string path, long offset, PipeReader content, Action<ReadOnlySequence<byte>> observe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(observe);
        string full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        SafeFileHandle? handle = null;
        string id = InPlacePart;
        try
        {
            try { handle = File.OpenHandle(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None); }
            catch (IOException) when (File.Exists(full)) { handle = null; } // another writer holds it: use a side file
            long length = handle is null ? -1 : RandomAccess.GetLength(handle);
            if (handle is not null && length < offset) { throw new StagedOffsetException(path, offset, length); }
            if (handle is null || length > offset)
            {
                handle?.Dispose();
                id = $"{PrivateMarker}part-{Guid.NewGuid():N}";
                handle = File.OpenHandle($"{full}{id}", FileMode.CreateNew, FileAccess.Write, FileShare.None);
            }
            long position = id == InPlacePart ? offset : 0;
            long written = await CopyBodyAsync(content, handle, position, observe, cancellationToken).ConfigureAwait(false);
            return new StagedPart(id, offset, written);
        }
        finally { handle?.Dispose(); }
    }

    /// <summary>
    /// When every part is in place and they run contiguously from 0, the staged file is cut to their end; otherwise the
    /// parts are copied, in order, into a fresh file that replaces it. Side files are removed either way.
    /// </summary>
    public async Task CommitStagedAsync(string path, IReadOnlyList<StagedPart> parts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parts);
        string full = Full(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        long expected = 0;
        bool inPlace = true;
        foreach (StagedPart part in parts)
        {
            inPlace &= part.Id == InPlacePart && part.Offset == expected;
            expected += part.Length;
        }
        if (inPlace)
        {
            using SafeFileHandle handle = File.OpenHandle(full, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None);
            long length = RandomAccess.GetLength(handle);
            if (length < expected) { throw new StagedOffsetException(path, expected, length); }
            if (length > expected) { RandomAccess.SetLength(handle, expected); }
        }
        else
        {
            await AssembleAsync(path, full, parts, cancellationToken).ConfigureAwait(false);
        }
        foreach (string side in Directory.EnumerateFiles(Path.GetDirectoryName(full)!, $"{Path.GetFileName(full)}{PrivateMarker}part-*"))
        {
            File.Delete(side);
        }
    }

    private static async Task AssembleAsync(string path, string full, IReadOnlyList<StagedPart> parts, CancellationToken cancellationToken)
    {
        string temp = TempName(full);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            using (SafeFileHandle output = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                foreach (StagedPart part in parts)
                {
                    string source = part.Id == InPlacePart ? full : $"{full}{part.Id}";
                    long position = part.Id == InPlacePart ? part.Offset : 0;
                    using SafeFileHandle input = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    for (long done = 0; done < part.Length;)
                    {
                        int wanted = (int)Math.Min(buffer.Length, part.Length - done);
                        int read = await RandomAccess.ReadAsync(input, buffer.AsMemory(0, wanted), position + done, cancellationToken).ConfigureAwait(false);
                        if (read == 0) { throw new StagedOffsetException(path, part.Offset + part.Length, part.Offset + done); }
                        await RandomAccess.WriteAsync(output, buffer.AsMemory(0, read), part.Offset + done, cancellationToken).ConfigureAwait(false);
                        done += read;
                    }
                }
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (File.Exists(temp)) { File.Delete(temp); }
        }
    }

    /// <summary>
    /// Kestrel's body pipe is consumed directly: segments are observed in place and written with one gathered write
    /// (<c>pwritev</c>) per batch of at least <see cref="MinWriteSize"/>, with no copy.
    /// </summary>
    private static async Task<long> CopyBodyAsync(PipeReader body, SafeFileHandle handle, long position, Action<ReadOnlySequence<byte>> observe, CancellationToken cancellationToken)
    {
        long written = 0;
        var segments = new List<ReadOnlyMemory<byte>>();
        while (true)
        {
            ReadResult result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length < MinWriteSize && !result.IsCompleted && !result.IsCanceled)
            {
                body.AdvanceTo(buffer.Start, buffer.End); // wait for a bigger batch
                continue;
            }
            if (!buffer.IsEmpty)
            {
                if (buffer.IsSingleSegment)
                {
                    await RandomAccess.WriteAsync(handle, buffer.First, position + written, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    segments.Clear();
                    foreach (ReadOnlyMemory<byte> segment in buffer) { segments.Add(segment); }
                    await RandomAccess.WriteAsync(handle, segments, position + written, cancellationToken).ConfigureAwait(false);
                }
                observe(buffer);
                written += buffer.Length;
            }
            body.AdvanceTo(buffer.End);
            if (result.IsCompleted || result.IsCanceled) { break; }
        }
        return written;
    }
}
