namespace Dbuild.Oci.Tests;

public sealed class PlatformTests
{
    [Theory]
    [InlineData("linux/amd64", "linux/amd64")]
    [InlineData("linux/x86_64", "linux/amd64")]
    [InlineData("linux/x86-64", "linux/amd64")]
    [InlineData("linux/amd64/v1", "linux/amd64")]
    [InlineData("linux/amd64/v3", "linux/amd64/v3")]
    [InlineData("linux/aarch64", "linux/arm64")]
    [InlineData("linux/arm64/v8", "linux/arm64")]
    [InlineData("linux/armhf", "linux/arm/v7")]
    [InlineData("linux/armel", "linux/arm/v6")]
    [InlineData("linux/arm", "linux/arm/v7")]
    [InlineData("linux/arm/7", "linux/arm/v7")]
    [InlineData("linux/arm/v6", "linux/arm/v6")]
    [InlineData("linux/i386", "linux/386")]
    [InlineData("Linux/AMD64", "linux/amd64")]
    [InlineData("windows/amd64", "windows/amd64")]
    [InlineData("arm64", "linux/arm64")] // a lone architecture means linux
    [InlineData("linux/s390x", "linux/s390x")]
    [InlineData("s390x", "linux/s390x")] // a known architecture alone
    [InlineData("x86_64", "linux/amd64")] // normalised before it is looked up
    [InlineData("linux/amd64/v9", "linux/amd64/v9")] // containerd does not check variants
    public void Parse_Normalises(string input, string expected) => Assert.Equal(expected, Platform.Parse(input).ToString());

    [Theory]
    [InlineData("", "Invalid platform: platform is empty.")]
    [InlineData("bogus", "Invalid platform: \"bogus\": unknown operating system or architecture.")] // neither an OS nor an architecture
    [InlineData("linux/", "Invalid platform: \"\" is an invalid component of \"linux/\": platform specifier component must match \"^[A-Za-z0-9_-]+$\".")]
    [InlineData("linux/amd64/v9/x", "Invalid platform: \"linux/amd64/v9/x\": cannot parse platform specifier.")] // too many parts
    [InlineData("linux/am d64", "Invalid platform: \"am d64\" is an invalid component of \"linux/am d64\": platform specifier component must match \"^[A-Za-z0-9_-]+$\".")]
    [InlineData("beos/amd64", "Invalid platform: \"beos/amd64\": unknown operating system \"beos\".")]
    public void Parse_Invalid_ThrowsContainerdsMessage(string input, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => Platform.Parse(input)).Message);

    [Fact]
    public void Parse_LoneOs_MeansThisMachinesArchitecture() => Assert.Equal(Platform.Current, Platform.Parse("linux"));

    [Theory]
    [InlineData("linux/arm/v7", "linux/arm/v6", true)]
    [InlineData("linux/arm/v7", "linux/arm/v5", true)]
    [InlineData("linux/arm/v6", "linux/arm/v7", false)]
    [InlineData("linux/arm64", "linux/arm/v7", true)]
    [InlineData("linux/arm64", "linux/amd64", false)]
    [InlineData("linux/amd64", "linux/386", true)]
    [InlineData("linux/amd64/v3", "linux/amd64", true)]
    [InlineData("linux/amd64/v3", "linux/amd64/v2", true)]
    [InlineData("linux/amd64", "linux/amd64/v3", false)]
    [InlineData("linux/amd64", "windows/amd64", false)]
    public void CanRun_FollowsContainerdFallbacks(string host, string image, bool expected) =>
        Assert.Equal(expected, Platform.Parse(host).CanRun(Platform.Parse(image)));

    [Fact]
    public void PickBest_PrefersExactThenNewestCompatibleVariant()
    {
        static Descriptor D(string platform, byte b) => new(MediaTypes.OciManifest, Digest.Compute([b]), 1) { Platform = Platform.Parse(platform) };
        Descriptor[] manifests = [D("linux/amd64", 1), D("linux/arm/v5", 2), D("linux/arm/v6", 3), D("windows/arm64", 4), D("linux/arm64", 5)];
        Assert.Equal(manifests[2], Platform.Parse("linux/arm/v7").PickBest(manifests));
        Assert.Equal(manifests[4], Platform.Parse("linux/arm64").PickBest(manifests));
        Assert.Equal(manifests[0], Platform.Parse("linux/amd64").PickBest(manifests));
        Assert.Null(Platform.Parse("linux/s390x").PickBest(manifests));
    }

    [Fact]
    public void Json_UsesSpecNames()
    {
        var platform = new Platform("windows", "amd64") { OsVersion = "10.0.17763.1" };
        Assert.Equal("""{"os":"windows","architecture":"amd64","os.version":"10.0.17763.1"}""", System.Text.Encoding.UTF8.GetString(OciJson.Serialize(platform)));
    }
}
