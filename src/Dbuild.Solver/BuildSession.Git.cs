using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// <c>ADD &lt;git url&gt; DEST</c> as BuildKit (dockerfile ≥1.6): the ref is resolved with ls-remote and the commit is
/// the cache key; only on a miss is the repository fetched (shallow, at that ref) and checked out, without .git
/// unless --keep-git-dir, and its tree copied like <c>COPY . DEST</c>.
/// https://docs.docker.com/reference/dockerfile/#adding-files-from-a-git-repository
/// </summary>
internal sealed partial class BuildSession
{
    /// <summary>ADD's git source, if it has one, with --keep-git-dir merged in (BuildKit refuses a flag and URL that disagree).</summary>
    private (GitRef Ref, bool KeepGitDir)? Git(Instruction i, IReadOnlyList<string> sources)
    {
        GitRef? found = null;
        foreach (string source in sources)
        {
            if (GitRef.TryParse(source, out GitRef? parsed)) { found = parsed; }
        }
        if (found is null) { return null; }
        if (sources.Count != 1) { throw new BuildException($"{_request.DockerfileName}:{i.Line}: ADD with a git repository takes exactly one source."); }
        bool? flag = i.Flag("keep-git-dir") is { } k ? !string.Equals(k, "false", StringComparison.OrdinalIgnoreCase) : null;
        if (flag is { } f && found.KeepGitDir is { } q && f != q)
        {
            throw new BuildException($"{_request.DockerfileName}:{i.Line}: ADD {found.Original}: inconsistent keep-git-dir configuration (--keep-git-dir={f} but the URL says {q}).");
        }
        return (found, flag ?? found.KeepGitDir ?? false);
    }

    private async Task<string?> AddGitAsync(StagePlan stage, StageState state, string name, Digest stepId, CacheKeyBuilder key, string? pendingReason, CopySpec spec,
        string? chown, bool link, (GitRef Ref, bool KeepGitDir) repository, string? checksum, string history, CancellationToken cancellationToken)
    {
        GitCommit commit = await GitSource.ResolveAsync(repository.Ref, checksum, cancellationToken).ConfigureAwait(false);
        string remote = GitRef.Redact(repository.Ref.Remote);
        key.Add("source", "git " + remote).Add("commit of " + remote, commit.Sha);
        if (repository.KeepGitDir) { key.Add("ref of " + remote, commit.Ref); } // .git/ records the ref, as in BuildKit's key
        if (_request.SourceDateEpoch is not null) { key.Add("mtime", "commit"); }
        string work = Path.Combine(_tmp, "git-" + Guid.NewGuid().ToString("N"));
        return await FinishCopyAsync(stage, state, name, stepId, key, pendingReason, spec with { Sources = ["."] }, chown, unpack: false, link, async ct =>
        {
            string root = await GitSource.CheckoutAsync(repository.Ref, commit, repository.KeepGitDir, work, ct).ConfigureAwait(false);
            // mtimes are the checkout time, as BuildKit's; under SOURCE_DATE_EPOCH the commit time (BuildKit's git mtime=commit).
            DateTimeOffset? mtime = _request.SourceDateEpoch is null ? null : await GitSource.CommitTimeAsync(repository.Ref, work, commit.Commit, ct).ConfigureAwait(false);
            return (new GitTree(root, _fs, mtime), "git");
        }, history, cancellationToken).ConfigureAwait(false);
    }
}
