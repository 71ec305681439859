using Dbuild.Solver.Cache;

namespace Dbuild.Solver.Graph;

/// <summary>
/// A local directory sent to the build: the main context or a named one (<c>--build-context name=DIR</c>), read in
/// place with its <c>.dockerignore</c>. Which files an op reads (and so its cache key) is up to the op.
/// </summary>
internal sealed class ContextSourceOp(string directory, string name) : OpNode
{
    /// <summary>The directory, absolute.</summary>
    public string Directory { get; } = directory;

    /// <summary>"context", or the named context's name.</summary>
    public string ContextName { get; } = name;

    public override string Kind => "context";

    public override IReadOnlyList<OpNode> Inputs => [];

    /// <summary>A fetched main context (git, URL, stdin) lives in a new temp directory each build: its path is no part of the key.</summary>
    public bool Fetched { get; init; }

    public override IReadOnlyList<KeyComponent> Definition => [new("name", ContextName), new("directory", Fetched ? "(fetched)" : Directory)];

    public override string Summary => $"context {ContextName} {Directory}";
}

/// <summary><c>ADD &lt;git url&gt;</c>'s repository: the ref is resolved to a commit while solving (the commit is the key).</summary>
internal sealed class GitSourceOp(GitRef reference, bool keepGitDir, string? checksum) : OpNode
{
    public GitRef Reference { get; } = reference;

    public bool KeepGitDir { get; } = keepGitDir;

    public string? Checksum { get; } = checksum;

    public override string Kind => "git";

    public override IReadOnlyList<OpNode> Inputs => [];

    public override IReadOnlyList<KeyComponent> Definition =>
        [new("remote", GitRef.Redact(Reference.Remote)), new("ref", Reference.Ref), new("subdir", Reference.SubDir), new("keep-git-dir", KeepGitDir ? "true" : "false"), new("checksum", Checksum ?? "")];

    public override string Summary => $"git {GitRef.Redact(Reference.Remote)}#{Reference.Ref}:{Reference.SubDir}";
}

/// <summary><c>ADD https://…</c>: downloaded while solving (verified against <c>--checksum</c>); the content digest is the key.</summary>
internal sealed class HttpSourceOp(string url, string? checksum) : OpNode
{
    public string Url { get; } = url;

    public string? Checksum { get; } = checksum;

    public override string Kind => "http";

    public override IReadOnlyList<OpNode> Inputs => [];

    public override IReadOnlyList<KeyComponent> Definition => [new("url", Url), new("checksum", Checksum ?? "")];

    public override string Summary => $"http {Url}";
}
