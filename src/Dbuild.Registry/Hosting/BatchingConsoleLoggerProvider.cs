using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Dbuild.Registry.Hosting;

/// <summary>
/// The registry's console log: the lines the simple console formatter writes in single-line mode with a UTC timestamp
/// (<c>2026-12-03T11:19:01.246Z info: Category[6001] message</c>, no colours), but written by one thread in batches:
/// under load, the lines that queued while the last batch was written go out in one <c>write(2)</c>. The simple console
/// logger makes a system call per line, which was a fifth of the server's CPU per manifest GET with one access-log line
/// per request.
/// </summary>
internal sealed class BatchingConsoleLoggerProvider : ILoggerProvider
{
    private const int QueueLength = 8192;
    private const int MaxBatchBytes = 256 * 1024;

    private readonly Channel<string> _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(QueueLength)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly ConcurrentDictionary<string, Logger> _loggers = new(StringComparer.Ordinal);
    private readonly Stream _output;
    private readonly Thread _writer;

    public BatchingConsoleLoggerProvider(Stream? output = null)
    {
        _output = output ?? Console.OpenStandardOutput();
        _writer = new Thread(WriteLines) { IsBackground = true, Name = "console log" };
        _writer.Start();
    }

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new Logger(this, name));

    /// <summary>Writes what is queued, then stops (bounded: a blocked stdout does not hold shutdown).</summary>
    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _writer.Join(TimeSpan.FromSeconds(5));
    }

    private void Enqueue(string line)
    {
        if (_lines.Writer.TryWrite(line)) { return; }
        // Full: wait for room as the simple console logger does, so no line is dropped.
        try { _lines.Writer.WriteAsync(line).AsTask().GetAwaiter().GetResult(); }
        catch (ChannelClosedException) { }
    }

    private void WriteLines()
    {
        byte[] batch = new byte[MaxBatchBytes];
        ChannelReader<string> reader = _lines.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            int used = 0;
            while (reader.TryPeek(out string? line))
            {
                // One encoding pass per line: straight into the batch when it fits.
                if (Encoding.UTF8.TryGetBytes(line, batch.AsSpan(used), out int written)) { used += written; }
                else if (used > 0) { break; } // the batch is full: this line starts the next one
                else { Write(Encoding.UTF8.GetBytes(line)); } // longer than a whole batch
                reader.TryRead(out _);
            }
            Write(batch.AsSpan(0, used));
        }
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) { return; }
        try { _output.Write(bytes); }
        catch (IOException) { } // stdout closed: the lines have nowhere to go
    }

    private static string LevelText(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };

    private sealed class Logger(BatchingConsoleLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) { return; }
            string message = formatter(state, exception);
            if (string.IsNullOrEmpty(message) && exception is null) { return; }
            var line = new StringBuilder(message.Length + category.Length + 48);
            line.Append(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ ", System.Globalization.CultureInfo.InvariantCulture))
                .Append(LevelText(logLevel)).Append(": ").Append(category).Append('[').Append(eventId.Id).Append("] ");
            AppendOneLine(line, message);
            if (exception is not null)
            {
                line.Append(' ');
                AppendOneLine(line, exception.ToString());
            }
            provider.Enqueue(line.Append('\n').ToString());
        }

        private static void AppendOneLine(StringBuilder line, string text)
        {
            int start = line.Length;
            line.Append(text);
            line.Replace(Environment.NewLine, " ", start, line.Length - start);
        }
    }
}
