using System.Globalization;
using Dbuild.Dockerfile;
using Dbuild.Solver.Graph;
using Dbuild.Solver.Ops;

namespace Dbuild.Solver.Frontend;

/// <summary>
/// COPY and ADD to a file op: what is copied (the context, a named context, another stage or an image, a git
/// repository, a download), how (owner, mode, parents, excludes, unpack), and with <c>--link</c> onto scratch, merged
/// onto the stage afterwards.
/// </summary>
internal sealed class CopyLowering(LoweringScope scope, StagePlan plan, IReadOnlyList<StagePlan> plans)
{
    /// <returns>The stage's filesystem op after the copy.</returns>
    public OpNode Lower(FileInstruction raw, FileInstruction i, StageState config, OpNode rootfs, string name, StepOrigin origin)
    {
        string keyword = i.Keyword;
        var spec = new CopySpec
        {
            Sources = i.Sources,
            Destination = i.Destination,
            Chmod = i.Chmod,
            Excludes = i.Excludes,
            Parents = i.Parents,
            Heredocs = i.Heredocs.ToDictionary(h => h.Name, h => h.EffectiveContent, StringComparer.Ordinal),
            Keyword = keyword,
        };
        AddInstruction? add = i as AddInstruction;
        bool unpack = add is not null && add.Unpack is not false;
        // --link: an independent layer keyed without the parent (BuildKit keeps the plain copy when --chmod is given).
        bool link = i.Link && spec.Chmod is null;
        string sourceText = string.Join(' ', spec.Sources);
        OpNode source;
        string description;
        if (raw is CopyInstruction { From: { } fromRaw })
        {
            (source, description) = scope.SourceOp(scope.ExpandGlobal(i, fromRaw), plan, plans, i);
        }
        else if (add is not null && Git(add) is { } git)
        {
            source = scope.Graph.Add(new GitSourceOp(git.Ref, git.KeepGitDir, add.Checksum));
            description = "git repository";
            sourceText = $"git {GitRef.Redact(git.Ref.Remote)} subdir={git.Ref.SubDir} keep-git-dir={git.KeepGitDir}";
            spec = spec with { Sources = ["."] };
            unpack = false;
        }
        else if (add is not null && spec.Sources.Any(IsUrl))
        {
            if (spec.Sources.Count != 1) { throw scope.Error(i, "ADD with a URL takes exactly one source."); }
            string url = spec.Sources[0];
            if (!Uri.TryCreate(url, UriKind.Absolute, out _)) { throw scope.Error(i, $"ADD {url}: not a valid URL."); }
            source = scope.Graph.Add(new HttpSourceOp(url, add.Checksum));
            description = "download";
            spec = spec with { Sources = [SourceOps.FileName(url)] };
            unpack = false; // BuildKit never unpacks a downloaded archive
        }
        else
        {
            source = scope.MainContext;
            description = "context";
        }
        string instruction = $"{keyword} chown={i.Chown} chmod={spec.Chmod} parents={spec.Parents} exclude={string.Join(',', spec.Excludes)} unpack={unpack} {sourceText}";
        string keyText;
        string? chown = i.Chown;
        if (link)
        {
            keyText = $"{instruction} --link -> {LinkDestination(spec.Destination, config.WorkingDir)}";
            if (chown is not null) { spec = spec with { Owner = LinkOwner(chown, i) }; }
            chown = null; // a --link owner is numeric, resolved here without reading the stage
        }
        else
        {
            keyText = $"{instruction} -> {spec.Destination} in {config.WorkingDir}";
        }
        var action = new CopyAction(source, spec, keyText)
        {
            Chown = chown, Unpack = unpack, Link = link, WorkingDirectory = config.WorkingDir, SourceDescription = description,
        };
        FileOp copy = scope.Graph.Add(new FileOp(link ? null : rootfs, action) { Name = name, Origin = origin });
        config.AddHistory($"{keyword} {string.Join(' ', i.Sources.Append(i.Destination))} # buildkit", scope.Now, copy);
        return link ? scope.Graph.Add(new MergeOp(rootfs, copy)) : copy;
    }

    private static bool IsUrl(string source) => source.StartsWith("http://", StringComparison.Ordinal) || source.StartsWith("https://", StringComparison.Ordinal);

    /// <summary>ADD's git source, if it has one, with --keep-git-dir merged in (BuildKit refuses a flag and URL that disagree).</summary>
    private (GitRef Ref, bool KeepGitDir)? Git(AddInstruction i)
    {
        GitRef? found = null;
        try
        {
            foreach (string source in i.Sources)
            {
                if (GitRef.TryParse(source, out GitRef? parsed)) { found = parsed; }
            }
        }
        catch (BuildException ex) { throw scope.Error(i, ex.Message); }
        if (found is null) { return null; }
        if (i.Sources.Count != 1) { throw scope.Error(i, "ADD with a git repository takes exactly one source."); }
        bool? flag = i.KeepGitDir ? true : null;
        if (flag is { } f && found.KeepGitDir is { } q && f != q)
        {
            throw scope.Error(i, $"ADD {found.Original}: inconsistent keep-git-dir configuration (--keep-git-dir={f} but the URL says {q}).", "keep-git-dir");
        }
        return (found, flag ?? found.KeepGitDir ?? false);
    }

    /// <summary>The destination as the --link key sees it: resolved against the working directory only, trailing '/' kept.</summary>
    private static string LinkDestination(string destination, string workingDir) =>
        destination.StartsWith('/') ? destination : workingDir.TrimEnd('/') + "/" + destination;

    /// <summary>
    /// <c>--chown</c> of a --link step, as BuildKit's <c>llb.WithUser</c> gives it: numeric ids or <c>root</c>; a bare
    /// user id is also the group id. A name would need the stage's /etc/passwd, which a --link step does not read:
    /// BuildKit fails there ("invalid user index: -1"), so dbuild refuses it with a message saying what to do instead.
    /// </summary>
    private (int Uid, int Gid) LinkOwner(string chown, Instruction i)
    {
        int colon = chown.IndexOf(':', StringComparison.Ordinal);
        string user = colon < 0 ? chown : chown[..colon];
        string? group = colon < 0 ? null : chown[(colon + 1)..];
        int uid = NumericId(user) ?? throw NamedOwner(user, "user");
        int gid = group is null ? uid : NumericId(group) ?? throw NamedOwner(group, "group");
        return (uid, gid);

        Exception NamedOwner(string name, string what) => scope.Error(i,
            $"{i.Keyword} --link --chown={chown}: the {what} name \"{name}\" cannot be resolved, because a --link step " +
            "does not read the stage's /etc/passwd or /etc/group (BuildKit fails with \"invalid user index: -1\"). Use numeric ids, e.g. --chown=1000:1000, or drop --link.",
            "chown");
    }

    private static int? NumericId(string value) =>
        value == "root" ? 0 : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : null;
}
