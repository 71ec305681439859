namespace Dbuild.Cli.Manifests;

/// <summary>The os/arch pairs <c>docker manifest annotate</c> accepts (Go's GOOS/GOARCH pairs, as the docker CLI lists them).</summary>
internal static class ValidPlatforms
{
    private static readonly HashSet<string> Pairs =
    [
        "aix/ppc64", "android/386", "android/amd64", "android/arm", "android/arm64", "darwin/386", "darwin/amd64", "darwin/arm",
        "darwin/arm64", "dragonfly/amd64", "freebsd/386", "freebsd/amd64", "freebsd/arm", "linux/386", "linux/amd64", "linux/arm",
        "linux/arm64", "linux/ppc64", "linux/ppc64le", "linux/mips", "linux/mipsle", "linux/mips64", "linux/mips64le", "linux/riscv64",
        "linux/s390x", "netbsd/386", "netbsd/amd64", "netbsd/arm", "openbsd/386", "openbsd/amd64", "openbsd/arm", "plan9/386",
        "plan9/amd64", "solaris/amd64", "windows/386", "windows/amd64", "windows/arm", "windows/arm64",
    ];

    public static bool IsValid(string os, string architecture) => Pairs.Contains($"{os}/{architecture}");
}
