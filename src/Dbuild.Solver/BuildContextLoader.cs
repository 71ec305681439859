namespace Dbuild.Solver;

/// <summary>
/// The CONTEXT argument of <c>build</c>, as docker 20.10 reads it: <c>-</c> (stdin: a tar, plain or compressed, or a
/// Dockerfile alone), a git URL (<c>git://</c>, <c>git@host:repo</c>, <c>ssh://</c>, <c>github.com/…</c>, or an
/// http(s) URL ending in <c>.git</c>; <c>#ref:subdir</c>) fetched as BuildKit's git source does, any other http(s)
/// URL (a tar, or a Dockerfile), else a local directory.
/// </summary>
public static class BuildContextLoader
{
    /// <summary>Fetches or unpacks <paramref name="context"/>; dispose the result to delete what was made.</summary>
    /// <param name="context">The argument as typed.</param>
    /// <param name="openStdin">Opens standard input (read only for <c>-</c>).</param>
    /// <param name="http">The process's HTTP client, for URL contexts.</param>
    /// <param name="cancellationToken">Cancels fetching.</param>
    public static async Task<PreparedContext> PrepareAsync(string context, Func<Stream> openStdin, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(openStdin);
        if (context == "-")
        {
            Stream stdin = openStdin();
            await using (stdin.ConfigureAwait(false)) { return await FromStreamAsync(stdin, "the context on stdin", cancellationToken).ConfigureAwait(false); }
        }
        if (GitUrl(context) is { } gitUrl && GitRef.TryParse(gitUrl, out GitRef? git, "git context"))
        {
            return await FromGitAsync(git, cancellationToken).ConfigureAwait(false);
        }
        if (context.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || context.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return await FromUrlAsync(context, http, cancellationToken).ConfigureAwait(false);
        }
        return Directory.Exists(context) ? PreparedContext.Local(context) : throw new BuildException($"unable to prepare context: path \"{context}\" not found");
    }

    /// <summary>docker's urlutil.IsGitURL plus <c>ssh://</c>; <c>github.com/u/r</c> becomes <c>https://github.com/u/r.git</c>.</summary>
    private static string? GitUrl(string context)
    {
        if (!context.StartsWith("github.com/", StringComparison.Ordinal)) { return context; }
        int hash = context.IndexOf('#', StringComparison.Ordinal);
        string path = hash < 0 ? context : context[..hash];
        return "https://" + path + (path.EndsWith(".git", StringComparison.Ordinal) ? "" : ".git") + (hash < 0 ? "" : context[hash..]);
    }

    private static async Task<PreparedContext> FromGitAsync(GitRef git, CancellationToken cancellationToken)
    {
        string root = Directory.CreateTempSubdirectory("dbuild-context-").FullName;
        try
        {
            GitCommit commit = await GitSource.ResolveAsync(git, null, cancellationToken).ConfigureAwait(false);
            // keep-git-dir is off for a context unless asked in the URL (BuildKit's BUILDKIT_CONTEXT_KEEP_GIT_DIR default).
            string directory = await GitSource.CheckoutAsync(git, commit, git.KeepGitDir ?? false, root, cancellationToken).ConfigureAwait(false);
            return new PreparedContext(directory, null, root);
        }
        catch
        {
            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    private static async Task<PreparedContext> FromUrlAsync(string url, HttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        string shown = GitRef.Redact(url);
        string root = Directory.CreateTempSubdirectory("dbuild-context-").FullName;
        try
        {
            string file = Path.Combine(root, "download");
            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri(url), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new BuildException($"unable to prepare context: unable to download remote context {shown}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                }
                Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false)) { await SpoolAsync(body, file, cancellationToken).ConfigureAwait(false); }
            }
            catch (HttpRequestException ex)
            {
                throw new BuildException($"unable to prepare context: unable to download remote context {shown}: {ex.Message}", ex);
            }
            catch (UriFormatException ex)
            {
                throw new BuildException($"unable to prepare context: {shown} is not a valid URL: {ex.Message}", ex);
            }
            return await ContextArchive.UnpackAsync(file, CreateContextDirectory(root), shown, root, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    private static async Task<PreparedContext> FromStreamAsync(Stream input, string source, CancellationToken cancellationToken)
    {
        string root = Directory.CreateTempSubdirectory("dbuild-context-").FullName;
        try
        {
            // Spooled to disk first: the type is told from the magic bytes, and memory stays flat whatever the size.
            string file = Path.Combine(root, "stdin");
            await SpoolAsync(input, file, cancellationToken).ConfigureAwait(false);
            return await ContextArchive.UnpackAsync(file, CreateContextDirectory(root), source, root, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    private static string CreateContextDirectory(string root) => Directory.CreateDirectory(Path.Combine(root, "context")).FullName;

    private static async Task SpoolAsync(Stream input, string file, CancellationToken cancellationToken)
    {
        FileStream output = new(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
        await using (output.ConfigureAwait(false)) { await input.CopyToAsync(output, cancellationToken).ConfigureAwait(false); }
    }
}
