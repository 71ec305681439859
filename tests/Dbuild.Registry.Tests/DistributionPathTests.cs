using Dbuild.Registry.Api;

namespace Dbuild.Registry.Tests;

public sealed class DistributionPathTests
{
    [Theory]
    [InlineData("", "Base", "", "")]
    [InlineData("/", "Base", "", "")]
    [InlineData("/_catalog", "Catalog", "", "")]
    [InlineData("/library/busybox/tags/list", "Tags", "library/busybox", "")]
    [InlineData("/a/manifests/latest", "Manifest", "a", "latest")]
    [InlineData("/a/b/c/manifests/sha256:abc", "Manifest", "a/b/c", "sha256:abc")]
    [InlineData("/a/blobs/sha256:abc", "Blob", "a", "sha256:abc")]
    [InlineData("/a/blobs/uploads/", "UploadStart", "a", "")]
    [InlineData("/a/blobs/uploads", "UploadStart", "a", "")] // without the trailing slash
    [InlineData("/a/blobs/uploads/0e6a1b3c-5d2f-4a7b-9c8d-1e2f3a4b5c6d", "Upload", "a", "0e6a1b3c-5d2f-4a7b-9c8d-1e2f3a4b5c6d")]
    [InlineData("/a/referrers/sha256:abc", "Referrers", "a", "sha256:abc")]
    [InlineData("/manifests/manifests/x", "Manifest", "manifests", "x")] // a component may be named like an endpoint
    [InlineData("/blobs/blobs/uploads/", "UploadStart", "blobs", "")]
    public void TryParse_KnownShapes_Routes(string path, string route, string name, string reference)
    {
        Assert.True(DistributionPath.TryParse(path, out DistributionPath parsed));
        Assert.Equal(new DistributionPath(Enum.Parse<DistributionRoute>(route), name, reference), parsed);
    }

    [Theory]
    [InlineData("/a")] // no endpoint
    [InlineData("/a/b")] // no endpoint
    [InlineData("/manifests/latest")] // no repository name
    [InlineData("/a/manifests/")] // empty reference
    [InlineData("/a/tags/list/")] // trailing slash
    [InlineData("/a/blobs/")] // empty digest
    public void TryParse_UnknownShapes_ReturnsFalse(string path) => Assert.False(DistributionPath.TryParse(path, out _));

    [Theory]
    [InlineData("a", true)]
    [InlineData("library/busybox", true)]
    [InlineData("a.b_c__d-e--f/g", true)]
    [InlineData("Upper", false)] // uppercase
    [InlineData("a/../b", false)] // path traversal
    [InlineData("..", false)] // path traversal
    [InlineData("a//b", false)] // empty component
    [InlineData("-a", false)] // leading separator
    [InlineData("a_", false)] // trailing separator
    [InlineData("a___b", false)] // three underscores
    [InlineData("a/", false)] // trailing slash
    [InlineData("", false)] // empty
    public void IsValidName_FollowsTheSpecGrammar(string name, bool valid) => Assert.Equal(valid, DistributionPath.IsValidName(name));

    [Fact]
    public void IsValidName_Over255Characters_IsFalse() => Assert.False(DistributionPath.IsValidName(new string('a', 256)));

    [Theory]
    [InlineData("latest", true)]
    [InlineData("v1.2.3-rc_1", true)]
    [InlineData("_x", true)]
    [InlineData(".hidden", false)] // leading dot
    [InlineData("-x", false)] // leading dash
    [InlineData("a/b", false)] // slash
    [InlineData("", false)] // empty
    public void IsValidTag_FollowsTheSpecGrammar(string tag, bool valid) => Assert.Equal(valid, DistributionPath.IsValidTag(tag));

    [Fact]
    public void IsValidTag_129Characters_IsFalse() => Assert.False(DistributionPath.IsValidTag(new string('a', 129)));
}
