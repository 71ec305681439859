namespace Dbuild.Solver;

/// <summary>
/// An exclusive lock file under the state root, held across processes (FileShare.None) and within one. Waits as long
/// as the holder needs (a RUN step can take minutes), until cancelled.
/// </summary>
internal static class RootLock
{
    public static async Task<FileStream> AcquireAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        int delay = 5;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 200);
            }
        }
    }
}
