using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Dbuild.Oci;
using Dbuild.Oci.Layers;

namespace Dbuild.Solver;

/// <summary>What a git ref resolved to: the ref matched, the sha ls-remote gave for it, and the commit to check out (a tag peeled).</summary>
internal sealed record GitCommit(string Ref, string Sha, string Commit);

/// <summary>
/// Clones like BuildKit's git source, through the <c>git</c> binary: <c>ls-remote</c> resolves the ref (the cache key is
/// the commit), a shallow fetch of just that ref, a checkout without <c>.git</c> unless keep-git-dir (and no subdir),
/// submodules updated, and only the subdir kept when one is given. Files get git's modes (0644/0755, symlinks), owner 0:0.
/// </summary>
internal static partial class GitSource
{
    [GeneratedRegex("^([0-9a-f]{40}|[0-9a-f]{64})$", RegexOptions.CultureInvariant)]
    private static partial Regex CommitSha();

    [GeneratedRegex(@"refs/heads/(\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex DefaultBranch();

    public static bool IsCommitSha(string value) => CommitSha().IsMatch(value);

    /// <summary>Resolves the ref with ls-remote, as BuildKit: a full sha as is, else branch before tag; --checksum must prefix the result.</summary>
    public static async Task<GitCommit> ResolveAsync(GitRef git, string? checksum, CancellationToken cancellationToken)
    {
        checksum ??= git.Checksum;
        if (checksum is not null && !Regex.IsMatch(checksum, "^[a-fA-F0-9]+$", RegexOptions.CultureInvariant))
        {
            throw new BuildException($"{git.Use} {git.Original}: invalid checksum {checksum} for a git URL, expected a hex commit hash.");
        }
        if (IsCommitSha(git.Ref))
        {
            if (checksum is not null && !git.Ref.StartsWith(checksum, StringComparison.Ordinal))
            {
                throw new BuildException($"{git.Use} {git.Original}: expected checksum to match {checksum}, got {git.Ref}.");
            }
            return new GitCommit(git.Ref, git.Ref, git.Ref);
        }
        string reference = git.Ref;
        if (reference.Length == 0)
        {
            string head = await RunAsync(git, ["ls-remote", "--symref", git.Remote, "HEAD"], null, cancellationToken).ConfigureAwait(false);
            reference = DefaultBranch().Match(head) is { Success: true } m ? m.Groups[1].Value
                : throw new BuildException($"{git.Use} {git.Original}: could not find the default branch of {GitRef.Redact(git.Remote)}.");
        }
        string listed = await RunAsync(git, ["ls-remote", git.Remote, reference, reference + "^{}"], null, cancellationToken).ConfigureAwait(false);
        string trimmed = reference.StartsWith("refs/", StringComparison.Ordinal) ? reference[5..] : reference;
        string partialRef = "refs/" + trimmed;
        string headRef = "refs/heads/" + Strip(reference, "refs/heads/");
        string tagRef = "refs/tags/" + Strip(reference, "refs/tags/");
        string? sha = null, headSha = null, tagSha = null, peeledSha = null;
        string usedRef = partialRef;
        foreach (string line in listed.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab < 0) { continue; }
            string lineSha = line[..tab], lineRef = line[(tab + 1)..].Trim();
            if (lineRef == headRef) { headSha = lineSha; }
            else if (lineRef == tagRef) { tagSha = lineSha; }
            else if (lineRef == tagRef + "^{}") { peeledSha = lineSha; }
            else if (lineRef == partialRef) { sha = lineSha; }
        }
        if (sha is null && headSha is not null) { (sha, usedRef) = (headSha, headRef); } // git checkout prefers branches
        if (sha is not null) { peeledSha = null; }
        if (sha is null && tagSha is not null) { (sha, usedRef) = (tagSha, tagRef); }
        if (sha is null)
        {
            throw new BuildException($"{git.Use} {git.Original}: the repository {GitRef.Redact(git.Remote)} does not contain ref \"{reference}\" (no branch, tag or commit of that name). " +
                "Check the ref after '#', or push it.");
        }
        if (!IsCommitSha(sha)) { throw new BuildException($"{git.Use} {git.Original}: invalid commit sha \"{sha}\" from {GitRef.Redact(git.Remote)}."); }
        if (checksum is not null && !sha.StartsWith(checksum, StringComparison.Ordinal) && !(peeledSha?.StartsWith(checksum, StringComparison.Ordinal) ?? false))
        {
            throw new BuildException($"{git.Use} {git.Original}: expected checksum to match {checksum}, got {sha}{(peeledSha is null ? "" : " or " + peeledSha)}.");
        }
        return new GitCommit(usedRef, sha, peeledSha ?? sha);

        static string Strip(string value, string prefix) => value.StartsWith(prefix, StringComparison.Ordinal) ? value[prefix.Length..] : value;
    }

    /// <summary>Fetches and checks out <paramref name="commit"/> under <paramref name="workDirectory"/>; returns the directory to copy from.</summary>
    public static async Task<string> CheckoutAsync(GitRef git, GitCommit commit, bool keepGitDir, string workDirectory, CancellationToken cancellationToken)
    {
        string subdir = CopyPlanner.Clean(git.SubDir);
        keepGitDir &= subdir.Length == 0; // BuildKit keeps .git only for the whole repository
        string checkout = Path.Combine(workDirectory, "checkout");
        Directory.CreateDirectory(checkout);
        string gitDir = keepGitDir ? Path.Combine(checkout, ".git") : Path.Combine(workDirectory, "repo.git");
        if (keepGitDir) { await RunAsync(git, ["-c", "init.defaultBranch=master", "init", "-q", checkout], null, cancellationToken).ConfigureAwait(false); }
        else { await RunAsync(git, ["-c", "init.defaultBranch=master", "init", "-q", "--bare", gitDir], null, cancellationToken).ConfigureAwait(false); }
        string[] inRepo = ["--git-dir", gitDir];
        await RunAsync(git, [.. inRepo, "remote", "add", "origin", git.Remote], null, cancellationToken).ConfigureAwait(false);
        if (commit.Ref == commit.Sha && IsCommitSha(commit.Ref))
        {
            // A sha: a server that refuses unadvertised objects gets a full fetch instead.
            try { await RunAsync(git, [.. inRepo, "fetch", "-q", "--depth=1", "origin", commit.Sha], null, cancellationToken).ConfigureAwait(false); }
            catch (BuildException)
            {
                await RunAsync(git, [.. inRepo, "fetch", "-q", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"], null, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await RunAsync(git, [.. inRepo, "fetch", "-q", "--depth=1", "--no-tags", "origin", $"+{commit.Ref}:{commit.Ref}"], null, cancellationToken).ConfigureAwait(false);
        }
        string[] withTree = [.. inRepo, "--work-tree", checkout];
        try
        {
            if (keepGitDir) { await RunAsync(git, [.. withTree, "checkout", "-q", "--detach", commit.Commit], checkout, cancellationToken).ConfigureAwait(false); }
            else { await RunAsync(git, [.. withTree, "checkout", "-q", commit.Commit, "--", "."], checkout, cancellationToken).ConfigureAwait(false); }
        }
        catch (BuildException ex)
        {
            throw new BuildException($"{git.Use} {git.Original}: commit {commit.Commit} is not what {GitRef.Redact(git.Remote)} has for {commit.Ref} any more (the ref moved while building?); build again.", ex);
        }
        if (git.Submodules is not false && File.Exists(Path.Combine(checkout, ".gitmodules")))
        {
            await RunAsync(git, [.. withTree, "submodule", "update", "--init", "--recursive", "--depth=1"], checkout, cancellationToken).ConfigureAwait(false);
        }
        if (keepGitDir)
        {
            await RunAsync(git, [.. inRepo, "reflog", "expire", "--all", "--expire=now"], null, cancellationToken).ConfigureAwait(false);
            File.Delete(Path.Combine(gitDir, "FETCH_HEAD"));
        }
        if (subdir.Length == 0) { return checkout; }
        string root = Path.Combine(checkout, subdir);
        return Directory.Exists(root) ? root : throw new BuildException($"{git.Use} {git.Original}: the repository has no directory \"{git.SubDir}\" at {commit.Commit}.");
    }

    /// <summary>The committer time of <paramref name="commit"/> in the fetched repository (for mtimes under SOURCE_DATE_EPOCH).</summary>
    public static async Task<DateTimeOffset> CommitTimeAsync(GitRef git, string workDirectory, string commit, CancellationToken cancellationToken)
    {
        string gitDir = Directory.Exists(Path.Combine(workDirectory, "repo.git")) ? Path.Combine(workDirectory, "repo.git") : Path.Combine(workDirectory, "checkout", ".git");
        string seconds = await RunAsync(git, ["--git-dir", gitDir, "show", "-s", "--format=%ct", commit], null, cancellationToken).ConfigureAwait(false);
        return DateTimeOffset.FromUnixTimeSeconds(long.Parse(seconds.Trim(), CultureInfo.InvariantCulture));
    }

    /// <summary>Runs git without prompts; a non-zero exit becomes a <see cref="BuildException"/> with git's own message.</summary>
    private static async Task<string> RunAsync(GitRef git, IEnumerable<string> arguments, string? workingDirectory, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("git")
        {
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments) { startInfo.ArgumentList.Add(argument); }
        startInfo.Environment["GIT_TERMINAL_PROMPT"] = "0"; // never wait for a password
        startInfo.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        startInfo.Environment["LC_ALL"] = "C";
        CapturedProcess run;
        try { run = await ProcessCapture.RunAsync(startInfo, null, cancellationToken).ConfigureAwait(false); }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new BuildException($"{git.Use} {git.Original}: git is needed to add a git repository but could not be started ({ex.Message}). Install git.", ex);
        }
        if (run.ExitCode != 0)
        {
            string verb = startInfo.ArgumentList.SkipWhile(a => a.StartsWith('-') || a.Contains('=', StringComparison.Ordinal) || a.Contains('/', StringComparison.Ordinal)).FirstOrDefault() ?? "";
            string error = run.StandardError.Trim().Replace(git.Remote, GitRef.Redact(git.Remote), StringComparison.Ordinal);
            throw new BuildException($"{git.Use} {git.Original}: git {verb} failed (exit {run.ExitCode}): {(error.Length > 0 ? error : "no output")}");
        }
        return run.StandardOutput;
    }
}

/// <summary>
/// A git checkout as a COPY source: git's own modes (0644 or 0755 files, 0755 directories, symlinks) whatever the
/// umask was, owner 0:0, and every mtime set to the commit time when one is given.
/// </summary>
internal sealed class GitTree(string root, ILayerFileSystem fs, DateTimeOffset? modificationTime) : SourceTree(root)
{
    private const UnixFileMode Regular = (UnixFileMode)0b110_100_100;
    private const UnixFileMode Executable = (UnixFileMode)0b111_101_101;

    public override string Description => "git repository";

    public override SourceFile? Stat(string relativePath)
    {
        SourceFile? file = StatWith(fs, Root, relativePath, keepOwners: false);
        if (file is null) { return null; }
        UnixFileMode mode = file.Type switch
        {
            LayerEntryType.Directory => Executable,
            LayerEntryType.Symlink => (UnixFileMode)0b111_111_111,
            _ when relativePath.StartsWith(".git/", StringComparison.Ordinal) || relativePath == ".git" => file.Mode, // --keep-git-dir: as git wrote it
            _ => (file.Mode & UnixFileMode.UserExecute) != 0 ? Executable : Regular,
        };
        return file with { Mode = mode, ModificationTime = modificationTime ?? file.ModificationTime };
    }
}
