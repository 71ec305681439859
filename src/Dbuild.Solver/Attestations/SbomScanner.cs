using Dbuild.Oci;

namespace Dbuild.Solver.Attestations;

/// <summary>What a scan of an image found: its packages, its distribution, and databases it saw but could not read.</summary>
internal sealed record SbomScan(IReadOnlyList<InstalledPackage> Packages, OsRelease? OsRelease, IReadOnlyList<string> Warnings);

/// <summary>
/// Finds the packages installed in an image's final filesystem from the package databases it carries: dpkg
/// (<c>/var/lib/dpkg/status</c> and <c>status.d/</c>) and apk (<c>/lib/apk/db/installed</c>). An rpm database
/// (<c>rpmdb.sqlite</c>, <c>Packages</c>, <c>Packages.db</c>) is noticed and reported, not read: dbuild has no rpm
/// header reader yet, and an SBOM that silently lacked those packages would claim less than the image holds.
/// </summary>
internal static class SbomScanner
{
    private static readonly string[] ApkPaths = [ApkDatabaseReader.InstalledPath, "usr/" + ApkDatabaseReader.InstalledPath];
    private static readonly string[] RpmPaths =
    [
        "var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages", "var/lib/rpm/Packages.db",
        "usr/lib/sysimage/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/Packages", "usr/lib/sysimage/rpm/Packages.db",
    ];

    public static async Task<SbomScan> ScanAsync(ContentStore store, IReadOnlyList<Descriptor> layers, CancellationToken cancellationToken)
    {
        ImagePackageFiles files = await ImagePackageFiles.ReadAsync(store, layers, IsWanted, cancellationToken).ConfigureAwait(false);
        var packages = new List<InstalledPackage>();
        if (files.Read(DpkgStatusReader.StatusPath) is { } status) { packages.AddRange(DpkgStatusReader.Parse(status, "/" + DpkgStatusReader.StatusPath)); }
        foreach ((string path, byte[] content) in files.ReadDirectory(DpkgStatusReader.StatusDirectory))
        {
            packages.AddRange(DpkgStatusReader.Parse(content, "/" + path));
        }
        foreach (string path in ApkPaths)
        {
            if (files.Read(path) is { } installed) { packages.AddRange(ApkDatabaseReader.Parse(installed, "/" + path)); }
        }
        OsRelease? os = OsRelease.Paths.Select(files.Read).OfType<byte[]>().Select(c => OsRelease.Parse(c)).FirstOrDefault(o => o is not null);
        List<string> warnings = [.. RpmPaths.Where(p => files.Read(p) is not null)
            .Select(p => $"rpm database /{p} found but not read: dbuild does not read rpm databases, so the SBOM lists no rpm packages")];
        return new SbomScan([.. packages.DistinctBy(p => (p.Type, p.Name, p.Version, p.Architecture))], os, warnings);
    }

    private static bool IsWanted(string path) =>
        path == DpkgStatusReader.StatusPath || FsTree.Parent(path) == DpkgStatusReader.StatusDirectory
        || ApkPaths.Contains(path) || OsRelease.Paths.Contains(path) || RpmPaths.Contains(path);
}
