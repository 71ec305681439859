using System.Text;
using System.Text.RegularExpressions;
using Dbuild.Registry.Hosting;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Tests;

public sealed partial class BatchingConsoleLoggerTests
{
    [Fact]
    public void Lines_HaveTheSimpleConsoleSingleLineFormat()
    {
        var output = new CountingStream();
        using (var provider = new BatchingConsoleLoggerProvider(output))
        {
            ILogger logger = provider.CreateLogger("Dbuild.Registry.AccessLog");
            logger.Log(LogLevel.Information, new EventId(6001), "GET /v2/ 200", null, (s, _) => s);
            logger.Log(LogLevel.Warning, new EventId(6003), "two\nlines", null, (s, _) => s);
            logger.Log(LogLevel.Error, new EventId(7), "failed", new InvalidOperationException("boom"), (s, _) => s);
        }
        string[] lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Matches(LinePattern(), lines[0]);
        Assert.EndsWith(" info: Dbuild.Registry.AccessLog[6001] GET /v2/ 200", lines[0], StringComparison.Ordinal);
        Assert.EndsWith(" warn: Dbuild.Registry.AccessLog[6003] two lines", lines[1], StringComparison.Ordinal);
        Assert.Contains(" fail: Dbuild.Registry.AccessLog[7] failed System.InvalidOperationException: boom", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void ManyLines_AreWrittenInFewerWrites_AndNoneIsLost()
    {
        var output = new CountingStream { Delay = TimeSpan.FromMilliseconds(20) };
        const int Count = 5000;
        using (var provider = new BatchingConsoleLoggerProvider(output))
        {
            ILogger logger = provider.CreateLogger("Load");
            Parallel.For(0, Count, i => logger.Log(LogLevel.Information, new EventId(1), i, null, (n, _) => $"request {n}"));
        }
        string[] lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Count, lines.Length);
        Assert.Equal(Count, lines.Select(l => l[(l.IndexOf("request ", StringComparison.Ordinal) + 8)..]).Distinct().Count());
        Assert.True(output.Writes < Count / 10, $"{output.Writes} writes for {Count} lines");
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: ")]
    private static partial Regex LinePattern();

    /// <summary>Records what was written and how many writes it took; a delay per write lets lines queue meanwhile.</summary>
    private sealed class CountingStream : Stream
    {
        private readonly MemoryStream _bytes = new();

        public TimeSpan Delay { get; init; }

        public int Writes { get; private set; }

        public string Text => Encoding.UTF8.GetString(_bytes.ToArray());

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _bytes.Length;

        public override long Position { get => _bytes.Position; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Writes++;
            _bytes.Write(buffer);
            if (Delay > TimeSpan.Zero) { Thread.Sleep(Delay); }
        }

        public override void Flush() { }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
