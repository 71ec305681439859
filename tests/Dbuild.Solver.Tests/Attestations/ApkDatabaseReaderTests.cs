using System.Text;
using Dbuild.Solver.Attestations;

namespace Dbuild.Solver.Tests.Attestations;

public sealed class ApkDatabaseReaderTests
{
    // Two blocks of Alpine 3.19's /lib/apk/db/installed, file lines (F:, R:, a:, Z:) included as apk writes them.
    private const string Installed = """
        C:Q1Cz1Nm5tgjFqmtxKb3jO2aZ5Y2hI=
        P:musl
        V:1.2.4_git20230717-r4
        A:x86_64
        S:407574
        I:663552
        T:the musl c library (libc) implementation
        U:https://musl.libc.org/
        L:MIT
        o:musl
        m:Timo Teräs <timo.teras@iki.fi>
        t:1705091744
        F:lib
        R:ld-musl-x86_64.so.1
        a:0:0:755
        Z:Q1rhdaD7t4bvN3ALKRDnrRLJgHIDg=

        P:busybox-binsh
        V:1.36.1-r15
        A:x86_64
        L:GPL-2.0-only
        o:busybox
        m:Sören Tempel <soeren+alpine@soeren-tempel.net>
        F:bin
        R:sh

        """;

    [Fact]
    public void Parse_InstalledDatabase_ListsEveryPackage()
    {
        IReadOnlyList<InstalledPackage> packages = ApkDatabaseReader.Parse(Encoding.UTF8.GetBytes(Installed), "/lib/apk/db/installed");

        Assert.Equal([("musl", "1.2.4_git20230717-r4"), ("busybox-binsh", "1.36.1-r15")], packages.Select(p => (p.Name, p.Version)));
        Assert.All(packages, p => Assert.Equal("apk", p.Type));
    }

    [Fact]
    public void Parse_OriginDiffersFromName_IsTheSource()
    {
        IReadOnlyList<InstalledPackage> packages = ApkDatabaseReader.Parse(Encoding.UTF8.GetBytes(Installed), "/lib/apk/db/installed");

        Assert.Null(packages[0].Source); // musl's origin is musl
        Assert.Equal("busybox", packages[1].Source);
        Assert.Equal("GPL-2.0-only", packages[1].License);
        Assert.Equal("x86_64", packages[1].Architecture);
    }

    [Fact]
    public void Parse_BlockWithoutVersion_IsSkipped()
    {
        IReadOnlyList<InstalledPackage> packages = ApkDatabaseReader.Parse("P:broken\nA:x86_64\n\n"u8, "/lib/apk/db/installed");

        Assert.Empty(packages);
    }
}
