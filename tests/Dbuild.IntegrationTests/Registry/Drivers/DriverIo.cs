using System.Buffers;
using System.IO.Pipelines;
using Dbuild.Registry.Storage;

namespace Dbuild.IntegrationTests.Registry.Drivers;

/// <summary>Staging and reading through a driver the way the registry does: bodies arrive as a pipe.</summary>
internal static class DriverIo
{
    /// <summary>Streams <paramref name="data"/> through a pipe into <see cref="IStorageDriver.StageAsync"/>, in odd-sized writes.</summary>
    public static async Task<StagedPart> StageAsync(IStorageDriver driver, string path, long offset, byte[] data, Action<ReadOnlySequence<byte>>? observe = null)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024));
        Task writer = Task.Run(async () =>
        {
            for (int at = 0; at < data.Length;)
            {
                int n = Math.Min(data.Length - at, 77_777);
                await pipe.Writer.WriteAsync(data.AsMemory(at, n), TestContext.Current.CancellationToken);
                at += n;
            }
            await pipe.Writer.CompleteAsync();
        }, TestContext.Current.CancellationToken);
        StagedPart part = await driver.StageAsync(path, offset, pipe.Reader, observe ?? (_ => { }), TestContext.Current.CancellationToken);
        await writer;
        await pipe.Reader.CompleteAsync();
        return part;
    }

    public static async Task<byte[]?> ReadAsync(IStorageDriver driver, string path, long offset = 0, long? length = null)
    {
        Stream? stream = await driver.OpenReadAsync(path, offset, length, TestContext.Current.CancellationToken);
        if (stream is null) { return null; }
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, TestContext.Current.CancellationToken);
            return copy.ToArray();
        }
    }
}
