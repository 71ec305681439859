using System.Formats.Tar;
using System.Text;
using Dbuild.Oci;
using Dbuild.Solver.Attestations;
using Dbuild.Testing;

namespace Dbuild.Solver.Tests.Attestations;

public sealed class SbomScannerTests
{
    private const string OneInstalled = "Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u5\n\n";
    private const string TwoInstalled = OneInstalled + "Package: libstdc++6\nStatus: install ok installed\nArchitecture: amd64\nSource: gcc-12\nVersion: 12.2.0-14\n\n";

    [Fact]
    public async Task Scan_UpperLayerStatus_WinsOverTheBase()
    {
        using var temp = new TempDirectory();
        ContentStore store = ContentStore.Open(temp.Combine("store"));
        Descriptor base1 = await LayerAsync(store, [File("var/lib/dpkg/status", OneInstalled)]);
        Descriptor upper = await LayerAsync(store, [File("var/lib/dpkg/status", TwoInstalled)]);

        SbomScan scan = await SbomScanner.ScanAsync(store, [base1, upper], TestContext.Current.CancellationToken);

        Assert.Equal([("base-files", "12.4+deb12u5"), ("libstdc++6", "12.2.0-14")], scan.Packages.Select(p => (p.Name, p.Version)));
    }

    [Fact]
    public async Task Scan_WhiteoutAndOpaqueDirectory_RemoveLowerDatabases()
    {
        using var temp = new TempDirectory();
        ContentStore store = ContentStore.Open(temp.Combine("store"));
        Descriptor lower = await LayerAsync(store,
            [File("var/lib/dpkg/status", OneInstalled), File("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\n\n")]);
        Descriptor upper = await LayerAsync(store, [File("var/lib/dpkg/.wh.status", ""), File("lib/apk/db/.wh..wh..opq", "")]);

        SbomScan scan = await SbomScanner.ScanAsync(store, [lower, upper], TestContext.Current.CancellationToken);

        Assert.Empty(scan.Packages);
    }

    [Fact]
    public async Task Scan_OsReleaseSymlink_GivesTheDistroQualifier()
    {
        using var temp = new TempDirectory();
        ContentStore store = ContentStore.Open(temp.Combine("store"));
        Descriptor layer = await LayerAsync(store,
        [
            File("usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"),
            new PaxTarEntry(TarEntryType.SymbolicLink, "etc/os-release") { LinkName = "../usr/lib/os-release" },
            File("var/lib/dpkg/status", TwoInstalled),
        ]);

        SbomScan scan = await SbomScanner.ScanAsync(store, [layer], TestContext.Current.CancellationToken);

        Assert.Equal("debian-12", scan.OsRelease?.Distro);
        InstalledPackage libstdcxx = scan.Packages.Single(p => p.Name == "libstdc++6");
        Assert.Equal("pkg:deb/debian/libstdc++6@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12", SpdxDocumentBuilder.PackageUrl(libstdcxx, scan.OsRelease));
    }

    [Fact]
    public async Task Scan_RpmDatabase_IsReportedNotSilentlySkipped()
    {
        using var temp = new TempDirectory();
        ContentStore store = ContentStore.Open(temp.Combine("store"));
        Descriptor layer = await LayerAsync(store, [File("var/lib/rpm/rpmdb.sqlite", "SQLite format 3\0")]);

        SbomScan scan = await SbomScanner.ScanAsync(store, [layer], TestContext.Current.CancellationToken);

        Assert.Contains(scan.Warnings, w => w.Contains("/var/lib/rpm/rpmdb.sqlite", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Build_SpdxDocument_ListsEveryPackageWithItsPurl()
    {
        using var temp = new TempDirectory();
        ContentStore store = ContentStore.Open(temp.Combine("store"));
        Descriptor layer = await LayerAsync(store, [File("var/lib/dpkg/status", TwoInstalled)]);
        SbomScan scan = await SbomScanner.ScanAsync(store, [layer], TestContext.Current.CancellationToken);

        var document = SpdxDocumentBuilder.Build(scan, "127.0.0.1:5000/app:1", layer.Digest, DateTimeOffset.FromUnixTimeSeconds(0));

        Assert.Equal("SPDX-2.3", (string?)document["spdxVersion"]);
        Assert.Equal("1970-01-01T00:00:00Z", (string?)document["creationInfo"]!["created"]);
        Assert.Equal(["base-files", "libstdc++6"], document["packages"]!.AsArray().Select(p => (string)p!["name"]!));
        Assert.All(document["packages"]!.AsArray(), p => Assert.Matches("^SPDXRef-[A-Za-z0-9.-]+$", (string)p!["SPDXID"]!));
        Assert.Equal(2, document["relationships"]!.AsArray().Count);
    }

    private static PaxTarEntry File(string path, string content) =>
        new(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };

    private static async Task<Descriptor> LayerAsync(ContentStore store, IReadOnlyList<PaxTarEntry> entries)
    {
        using var tar = new MemoryStream();
        await using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (PaxTarEntry entry in entries) { await writer.WriteEntryAsync(entry, TestContext.Current.CancellationToken); }
        }
        return await store.WriteBlobAsync(tar.ToArray(), MediaTypes.OciLayer, TestContext.Current.CancellationToken);
    }
}
