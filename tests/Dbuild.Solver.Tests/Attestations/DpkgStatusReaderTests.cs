using System.Text;
using Dbuild.Solver.Attestations;

namespace Dbuild.Solver.Tests.Attestations;

public sealed class DpkgStatusReaderTests
{
    // Three stanzas as bookworm's /var/lib/dpkg/status has them: a multi-line Description, a Source with its own version,
    // and one package removed but not purged (config-files), which is not installed.
    private const string Status = """
        Package: libc6
        Status: install ok installed
        Priority: optional
        Section: libs
        Installed-Size: 12991
        Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
        Architecture: amd64
        Multi-Arch: same
        Source: glibc
        Version: 2.36-9+deb12u10
        Description: GNU C Library: Shared libraries
         Contains the standard libraries that are used by nearly all programs on
         the system.

        Package: libgcc-s1
        Status: install ok installed
        Architecture: amd64
        Source: gcc-12 (12.2.0-14)
        Version: 12.2.0-14
        Maintainer: Debian GCC Maintainers <debian-gcc@lists.debian.org>

        Package: old-tool
        Status: deinstall ok config-files
        Architecture: amd64
        Version: 1.0-1

        """;

    [Fact]
    public void Parse_StatusFile_ListsInstalledPackagesWithVersions()
    {
        IReadOnlyList<InstalledPackage> packages = DpkgStatusReader.Parse(Encoding.UTF8.GetBytes(Status), "/var/lib/dpkg/status");

        Assert.Equal(["libc6", "libgcc-s1"], packages.Select(p => p.Name));
        InstalledPackage libc = packages[0];
        Assert.Equal("2.36-9+deb12u10", libc.Version);
        Assert.Equal("amd64", libc.Architecture);
        Assert.Equal("glibc", libc.Source);
        Assert.Equal("GNU Libc Maintainers <debian-glibc@lists.debian.org>", libc.Maintainer);
        Assert.Equal("/var/lib/dpkg/status", libc.Database);
    }

    [Fact]
    public void Parse_SourceWithVersion_KeepsTheSourceName()
    {
        IReadOnlyList<InstalledPackage> packages = DpkgStatusReader.Parse(Encoding.UTF8.GetBytes(Status), "/var/lib/dpkg/status");

        Assert.Equal("gcc-12", packages[1].Source);
    }

    [Fact]
    public void Parse_StatusDStanzaWithoutStatus_CountsAsInstalled()
    {
        // distroless: one file per package under status.d/, no Status field.
        const string Stanza = "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n";

        IReadOnlyList<InstalledPackage> packages = DpkgStatusReader.Parse(Encoding.UTF8.GetBytes(Stanza), "/var/lib/dpkg/status.d/tzdata");

        InstalledPackage only = Assert.Single(packages);
        Assert.Equal(("tzdata", "2024a-0+deb12u1"), (only.Name, only.Version));
    }

    [Fact]
    public void Parse_CrLfAndNoTrailingBlankLine_StillReadsTheLastStanza()
    {
        const string Text = "Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\r\nPackage: b\r\nStatus: install ok installed\r\nVersion: 2";

        IReadOnlyList<InstalledPackage> packages = DpkgStatusReader.Parse(Encoding.UTF8.GetBytes(Text), "/var/lib/dpkg/status");

        Assert.Equal([("a", "1"), ("b", "2")], packages.Select(p => (p.Name, p.Version)));
    }
}
