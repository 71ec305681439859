using Dbuild.Oci;
using Dbuild.Solver.Cache;
using Dbuild.Solver.Graph;

namespace Dbuild.Solver.Ops;

/// <summary>
/// The sources of a build: base images (resolved during lowering; solving only reports the FROM and whether its
/// digest moved), scratch, local contexts (read in place), git repositories (the ref resolved to a commit, checked out
/// only when a step must copy) and downloads (fetched and verified, their digest the key).
/// </summary>
internal sealed class SourceOps(SolveContext context)
{
    public async Task<OpResult> ImageAsync(ImageSourceOp op, CancellationToken cancellationToken)
    {
        BaseImage image = op.Image;
        string? chain = null;
        if (op.Origin is { } origin)
        {
            IReadOnlyList<KeyComponent>? before = await context.Cache.GetStepHistoryAsync(origin.StepId, cancellationToken).ConfigureAwait(false);
            var now = new KeyComponent("base image", image.ManifestDigest.ToString());
            if (before?.FirstOrDefault(c => c.Name == now.Name)?.Value is { } old && old != now.Value) { chain = "base image digest changed"; }
            await context.Cache.PutStepHistoryAsync(origin.StepId, [now], cancellationToken).ConfigureAwait(false);
        }
        if (op.Name is { } name) { context.Tracker.Start(name).Done(); }
        IReadOnlyList<ChainLayer> layers = [.. image.Layers.Select(ChainLayer.Of)];
        return new OpResult
        {
            Key = new CacheKeyBuilder().Add("base image", image.ManifestDigest.ToString()).Build(),
            Layers = layers,
            ChainReason = chain,
            SourceKey = [new("source", "image " + image.ManifestDigest)],
            TreeFactory = ct => RootfsReader.BuildTreeAsync(context, layers, ct),
        };
    }

    public static OpResult Scratch(ScratchOp op) => new()
    {
        Key = new CacheKeyBuilder().Add("scratch", op.Platform.ToString()).Build(),
        TreeFactory = _ => Task.FromResult(new FsTree()),
    };

    public OpResult Context(ContextSourceOp op)
    {
        ContextTree tree = context.Context(op.Directory);
        return new OpResult
        {
            Key = new CacheKeyBuilder().Add("context", op.ContextName).Build(),
            Context = tree,
            OpenTree = _ => Task.FromResult<SourceTree>(tree),
            SourceKey = [new("source", op.ContextName == "context" ? "context" : "context " + op.ContextName)],
        };
    }

    public async Task<OpResult> GitAsync(GitSourceOp op, CancellationToken cancellationToken)
    {
        GitCommit commit = await GitSource.ResolveAsync(op.Reference, op.Checksum, cancellationToken).ConfigureAwait(false);
        string remote = GitRef.Redact(op.Reference.Remote);
        var key = new CacheKeyBuilder().Add("source", "git " + remote).Add("commit of " + remote, commit.Sha);
        if (op.KeepGitDir) { key.Add("ref of " + remote, commit.Ref); } // .git/ records the ref, as in BuildKit's key
        if (context.Request.SourceDateEpoch is not null) { key.Add("mtime", "commit"); }
        string work = Path.Combine(context.Tmp, "git-" + Guid.NewGuid().ToString("N"));
        var checkout = new Lazy<Task<SourceTree>>(async () =>
        {
            string root = await GitSource.CheckoutAsync(op.Reference, commit, op.KeepGitDir, work, cancellationToken).ConfigureAwait(false);
            // mtimes are the checkout time, as BuildKit's; under SOURCE_DATE_EPOCH the commit time (BuildKit's git mtime=commit).
            DateTimeOffset? mtime = context.Request.SourceDateEpoch is null ? null
                : await GitSource.CommitTimeAsync(op.Reference, work, commit.Commit, cancellationToken).ConfigureAwait(false);
            return new GitTree(root, context.FileSystem, mtime);
        });
        return new OpResult { Key = key.Build(), SourceKey = key.Components, OpenTree = _ => checkout.Value };
    }

    /// <summary>
    /// ADD https://…: downloads into the build's temp dir (verifying --checksum), as a one-file tree. The file is named
    /// after the URL's last path segment (<see cref="FileName"/>), mode 0600, mtime from Last-Modified, as BuildKit does.
    /// </summary>
    public async Task<OpResult> HttpAsync(HttpSourceOp op, CancellationToken cancellationToken)
    {
        HttpClient http = context.Options.Http ?? throw new BuildException($"ADD {op.Url}: downloads need an HTTP client.");
        string dir = Path.Combine(context.Tmp, "url-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string fileName = FileName(op.Url);
        string path = Path.Combine(dir, fileName);
        using HttpResponseMessage response = await http.GetAsync(new Uri(op.Url), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) { throw new BuildException($"ADD {op.Url} failed: {(int)response.StatusCode} {response.ReasonPhrase}."); }
        Digest digest;
        FileStream file = File.Create(path);
        await using (file.ConfigureAwait(false))
        {
            Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var hashing = new DigestingReadStream(body);
                await hashing.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                digest = hashing.ActualDigest ?? throw new BuildException($"ADD {op.Url}: the download ended early.");
            }
        }
        if (op.Checksum is not null && op.Checksum != digest.ToString())
        {
            throw new BuildException($"ADD {op.Url}: digest mismatch: expected {op.Checksum}, got {digest}.");
        }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (response.Content.Headers.LastModified is { } modified) { File.SetLastWriteTimeUtc(path, modified.UtcDateTime); }
        var key = new CacheKeyBuilder().Add("source", "url " + op.Url).Add("file " + op.Url, digest.ToString());
        var tree = new UrlTree(dir, fileName, context.FileSystem);
        return new OpResult { Key = key.Build(), SourceKey = key.Components, OpenTree = _ => Task.FromResult<SourceTree>(tree) };
    }

    /// <summary>The name a download gets: the URL path's last segment, or <c>__unnamed__</c>.</summary>
    public static string FileName(string url)
    {
        string name = Path.GetFileName(new Uri(url).AbsolutePath.TrimEnd('/'));
        return name.Length == 0 ? "__unnamed__" : name;
    }
}
