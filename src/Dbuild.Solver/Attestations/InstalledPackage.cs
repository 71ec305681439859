namespace Dbuild.Solver.Attestations;

/// <summary>One package a package database in the image says is installed.</summary>
/// <param name="Type">The purl type: <c>deb</c>, <c>apk</c>.</param>
/// <param name="Name">The package name.</param>
/// <param name="Version">The full version as the database has it (<c>2.36-9+deb12u4</c>, <c>1.2.4-r2</c>).</param>
/// <param name="Database">The database it was read from, as an absolute path in the image (<c>/var/lib/dpkg/status</c>).</param>
internal sealed record InstalledPackage(string Type, string Name, string Version, string Database)
{
    public string? Architecture { get; init; }

    /// <summary>The source (deb) or origin (apk) package, when it differs from <see cref="Name"/>.</summary>
    public string? Source { get; init; }

    public string? Maintainer { get; init; }

    /// <summary>The licence as the database states it (apk has one; dpkg's status does not).</summary>
    public string? License { get; init; }
}
