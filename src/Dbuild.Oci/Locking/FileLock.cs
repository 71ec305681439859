using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Dbuild.Oci.Locking;

/// <summary>How a <see cref="FileLock"/> is held.</summary>
public enum FileLockMode
{
    /// <summary>Many holders at once (<c>LOCK_SH</c>); excludes an exclusive holder.</summary>
    Shared,

    /// <summary>One holder (<c>LOCK_EX</c>).</summary>
    Exclusive,
}

/// <summary>
/// An advisory lock on a file (<c>flock(2)</c>) shared by every dbuild process on one state root, and by every holder
/// within one process (each holder opens its own file description, so two of them exclude each other as two processes
/// do). The kernel drops it when its holder's file is closed, also when the process is killed, so a crash never leaves
/// a lock held. The file is opened close-on-exec: a child process (an OCI runtime) never inherits it.
/// </summary>
/// <remarks>
/// .NET's <see cref="FileShare.None"/> takes a non-blocking <c>flock</c> only as a sharing check (and not at all under
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>); this class is the one lock every part of dbuild uses for the state root.
/// Waiting polls a non-blocking attempt with back-off, so it is cancellable and never holds a thread.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed partial class FileLock : IDisposable
{
    private const int LockShared = 1;
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int LockUnlock = 8;
    private const int EWOULDBLOCK = 11;
    private const int EINTR = 4;
    private const int OpenReadWrite = 2;
    private const int OpenCreate = 0x40;
    private const int OpenCloseOnExec = 0x80000;
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMilliseconds(50);

    private readonly SafeFileHandle _handle;

    private FileLock(string path, FileLockMode mode, SafeFileHandle handle) => (Path, Mode, _handle) = (path, mode, handle);

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>How it is held.</summary>
    public FileLockMode Mode { get; }

    /// <summary>Takes the lock now, or returns null when another holder has it (in a conflicting mode).</summary>
    /// <exception cref="Win32Exception">The lock file cannot be opened or locked.</exception>
    public static FileLock? TryAcquire(string path, FileLockMode mode = FileLockMode.Exclusive)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFileHandle handle = OpenLockFile(path);
        try
        {
            if (TryLock(handle, mode, path)) { return new FileLock(path, mode, handle); }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        handle.Dispose();
        return null;
    }

    /// <summary>
    /// Takes the lock, waiting for other holders; <paramref name="waiting"/> is called once if it has to wait (to say so
    /// in the progress or the log). Cancelling the wait throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<FileLock> AcquireAsync(string path, FileLockMode mode = FileLockMode.Exclusive, Action? waiting = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFileHandle handle = OpenLockFile(path);
        try
        {
            var delay = TimeSpan.FromMilliseconds(1);
            bool announced = false;
            while (!TryLock(handle, mode, path))
            {
                if (!announced) { waiting?.Invoke(); announced = true; }
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = delay * 2 < MaxPoll ? delay * 2 : MaxPoll;
            }
            return new FileLock(path, mode, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Turns a held shared lock into an exclusive one if no one else holds it; false otherwise. As with <c>flock</c>,
    /// the conversion is not atomic: after false the lock is no longer held at all, so call it as the last use.
    /// </summary>
    public bool TryUpgrade()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return TryLock(_handle, FileLockMode.Exclusive, Path);
    }

    /// <summary>Releases the lock (closing the file does that too).</summary>
    public void Dispose()
    {
        if (_handle.IsClosed) { return; }
        _ = Flock(_handle, LockUnlock);
        _handle.Dispose();
    }

    private static SafeFileHandle OpenLockFile(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        while (true)
        {
            var handle = new SafeFileHandle(Open(path, OpenReadWrite | OpenCreate | OpenCloseOnExec, 0b110_100_100), ownsHandle: true); // 0644
            if (!handle.IsInvalid) { return handle; }
            int errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            if (errno != EINTR) { throw new Win32Exception(errno, $"Opening the lock file {path} failed: {Marshal.GetPInvokeErrorMessage(errno)}"); }
        }
    }

    private static bool TryLock(SafeFileHandle handle, FileLockMode mode, string path)
    {
        int operation = (mode == FileLockMode.Exclusive ? LockExclusive : LockShared) | LockNonBlocking;
        while (true)
        {
            if (Flock(handle, operation) == 0) { return true; }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EWOULDBLOCK) { return false; }
            if (errno != EINTR) { throw new Win32Exception(errno, $"Locking {path} failed: {Marshal.GetPInvokeErrorMessage(errno)}"); }
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle handle, int operation);
}
