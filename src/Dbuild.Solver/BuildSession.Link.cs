using System.Globalization;
using Dbuild.Oci;

namespace Dbuild.Solver;

/// <summary>
/// <c>COPY --link</c> / <c>ADD --link</c> as in BuildKit ≥0.10 (dockerfile 1.4): the files are copied onto scratch and
/// the result is merged on top of the stage (MergeOp). The step reads nothing of the stage, so its cache key leaves
/// the parent out and its layer is reused when earlier steps or the base image change.
/// https://docs.docker.com/reference/dockerfile/#copy---link
/// </summary>
internal sealed partial class BuildSession
{
    /// <summary>The destination as the key sees it: resolved against the working directory only, trailing '/' kept.</summary>
    private static string LinkDestination(string destination, string workingDir) =>
        destination.StartsWith('/') ? destination : workingDir.TrimEnd('/') + "/" + destination;

    /// <summary>The stage's running key after a --link step: the parent's key chained with the link layer's own key.</summary>
    private static Digest LinkedKey(Digest parent, Digest link) =>
        new CacheKeyBuilder().Add("parent", parent.ToString()).Add("link", link.ToString()).Build();

    /// <summary>
    /// <c>--chown</c> of a --link step, as BuildKit's <c>llb.WithUser</c> gives it: numeric ids or <c>root</c>; a bare
    /// user id is also the group id. A name would need the stage's /etc/passwd, which a --link step does not read:
    /// BuildKit fails there ("invalid user index: -1"), so dbuild refuses it with a message saying what to do instead.
    /// </summary>
    private (int Uid, int Gid) LinkOwner(string chown, Instruction i, string keyword)
    {
        int colon = chown.IndexOf(':', StringComparison.Ordinal);
        string user = colon < 0 ? chown : chown[..colon];
        string? group = colon < 0 ? null : chown[(colon + 1)..];
        int uid = NumericId(user) ?? throw NamedOwner(user, "user");
        int gid = group is null ? uid : NumericId(group) ?? throw NamedOwner(group, "group");
        return (uid, gid);

        BuildException NamedOwner(string name, string what) => new(
            $"{_request.DockerfileName}:{i.Line}: {keyword} --link --chown={chown}: the {what} name \"{name}\" cannot be resolved, because a --link step " +
            "does not read the stage's /etc/passwd or /etc/group (BuildKit fails with \"invalid user index: -1\"). Use numeric ids, e.g. --chown=1000:1000, or drop --link.");
    }

    private static int? NumericId(string value) =>
        value == "root" ? 0 : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : null;
}
