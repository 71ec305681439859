using System.Collections.Concurrent;
using Dbuild.Oci;
using Dbuild.Registry.Client;
using Microsoft.Extensions.Logging;

namespace Dbuild.Solver.Export;

/// <summary>
/// A build that pushes uploads each layer blob of its image as soon as the blob is written, alongside the steps and
/// compressions still running, to every repository it will push to; the push at the end then finds those blobs there
/// (HEAD) and sends only what is left and the manifests. Nothing is tagged early: an upload on its own changes no name.
/// An early upload is tried once, nothing retried, and a failure is only logged: the push at the end tries that blob
/// again (with retries) and reports what fails, so an unreachable registry costs no more time than before.
/// </summary>
internal sealed class EarlyBlobPush(RegistryClient client, ContentStore store, IReadOnlyList<Reference> tags, ILogger logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(Digest Blob, string Registry, string Repository), Task> _uploads = new();
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Starts uploading <paramref name="blob"/> (a blob in the store) to each pushed repository, once per build.</summary>
    public void Start(Descriptor blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        if (_stop.IsCancellationRequested) { return; }
        foreach (Reference tag in tags.DistinctBy(t => (t.Registry, t.Repository)))
        {
            _uploads.GetOrAdd((blob.Digest, tag.Registry, tag.Repository), key => Task.Run(async () =>
            {
                try
                {
                    Digest digest = key.Blob;
                    await client.PushBlobOnceAsync(key.Registry, key.Repository, new BlobUpload(digest, blob.Size, () => store.OpenBlob(digest)), _stop.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !_stop.IsCancellationRequested)
                {
                    Log.EarlyUploadFailed(logger, key.Blob.ToString(), $"{key.Registry}/{key.Repository}", ex.Message);
                }
            }, CancellationToken.None));
        }
    }

    /// <summary>Waits for every upload started so far (the push at the end must not race one of its own blobs).</summary>
    public async Task WaitAsync()
    {
        foreach (Task upload in _uploads.Values) { await upload.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); }
    }

    /// <summary>Stops the uploads still running (a failed or cancelled build) and waits for them.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await WaitAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
