namespace Dbuild.Oci.Tests;

public sealed class ReferenceTests
{
    private const string D = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static TheoryData<string, string, string> Valid => new()
    {
        // input, fully qualified, familiar
        { "redis", "docker.io/library/redis:latest", "redis:latest" },
        { "redis:7", "docker.io/library/redis:7", "redis:7" },
        { "library/redis", "docker.io/library/redis:latest", "redis:latest" },
        { "docker.io/redis", "docker.io/library/redis:latest", "redis:latest" },
        // docker's familiar form, which reads back as registry librcker.io: docker has the same ambiguity (afl-fuzz,
        // testdata/fuzz/reference/regressions/docker-io-host-like-path)
        { "docker.io/librcker.io/lib.2", "docker.io/librcker.io/lib.2:latest", "librcker.io/lib.2:latest" },
        { "docker.io/library/redis:alpine", "docker.io/library/redis:alpine", "redis:alpine" },
        { "index.docker.io/library/redis", "docker.io/library/redis:latest", "redis:latest" },
        { "user/app", "docker.io/user/app:latest", "user/app:latest" },
        { "user/app:v1.2.3", "docker.io/user/app:v1.2.3", "user/app:v1.2.3" },
        { "docker.io/user/app", "docker.io/user/app:latest", "user/app:latest" },
        { "docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest" },
        { "localhost/app", "localhost/app:latest", "localhost/app:latest" },
        { "localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest" },
        { "localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag" },
        { $"localhost:5000/a/b@{D}", $"localhost:5000/a/b@{D}", $"localhost:5000/a/b@{D}" },
        { $"localhost:5000/a/b:t@{D}", $"localhost:5000/a/b:t@{D}", $"localhost:5000/a/b:t@{D}" },
        { $"redis@{D}", $"docker.io/library/redis@{D}", $"redis@{D}" },
        { $"redis:7@{D}", $"docker.io/library/redis:7@{D}", $"redis:7@{D}" },
        { "127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app:latest" },
        { "127.0.0.1/app:1", "127.0.0.1/app:1", "127.0.0.1/app:1" },
        { "[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest" },
        { "[fe80::1]/app:x", "[fe80::1]/app:x", "[fe80::1]/app:x" },
        { "ghcr.io/acme/app:1", "ghcr.io/acme/app:1", "ghcr.io/acme/app:1" },
        { "registry.example.com/app:1", "registry.example.com/app:1", "registry.example.com/app:1" },
        { "registry.example.com:443/team/app", "registry.example.com:443/team/app:latest", "registry.example.com:443/team/app:latest" },
        { "quay.io/a/b/c/d:1", "quay.io/a/b/c/d:1", "quay.io/a/b/c/d:1" },
        { "Registry.Example.com/app", "Registry.Example.com/app:latest", "Registry.Example.com/app:latest" }, // domains may have uppercase
        { "FOO/app", "FOO/app:latest", "FOO/app:latest" }, // an uppercase first component is a domain
        { "my-registry/app", "docker.io/my-registry/app:latest", "my-registry/app:latest" }, // no dot, colon or localhost: a docker.io user
        { "a", "docker.io/library/a:latest", "a:latest" },
        { "a-b", "docker.io/library/a-b:latest", "a-b:latest" },
        { "a--b", "docker.io/library/a--b:latest", "a--b:latest" },
        { "a_b", "docker.io/library/a_b:latest", "a_b:latest" },
        { "a__b", "docker.io/library/a__b:latest", "a__b:latest" },
        { "a.b", "docker.io/library/a.b:latest", "a.b:latest" },
        { "a.b/c", "a.b/c:latest", "a.b/c:latest" }, // a dot makes it a domain
        { "app:TAG", "docker.io/library/app:TAG", "app:TAG" }, // tags may be uppercase
        { "app:_", "docker.io/library/app:_", "app:_" },
        { "app:1.0-rc_1", "docker.io/library/app:1.0-rc_1", "app:1.0-rc_1" },
        { "app:" + "t234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678", "docker.io/library/app:" + "t234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678", "app:" + "t234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678" },
        { "host:5000/a:5000", "host:5000/a:5000", "host:5000/a:5000" }, // port then a numeric tag
        { "0.0.0.0/x", "0.0.0.0/x:latest", "0.0.0.0/x:latest" },
    };

    public static TheoryData<string, string> Invalid => new()
    {
        // input, a word the error must contain
        { "", "empty" },
        { "Redis", "lowercase" }, // uppercase repository
        { "docker.io/Library/redis", "lowercase" },
        { "user/App", "lowercase" },
        { "localhost:5000/UPPER", "lowercase" },
        { "a//b", "empty component" },
        { "/a", "empty" },
        { "a/", "empty" },
        { "a:", "tag" }, // empty tag
        { "a:-tag", "tag" }, // tag may not start with '-'
        { "a:.tag", "tag" }, // nor '.'
        { "a:t@g", "digest" },
        { "a:" + new string('t', 129), "tag" }, // tag over 128 characters
        { "a@sha256:abc", "digest" }, // digest too short
        { "a@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "digest" }, // uppercase digest hex
        { "a@md5:d41d8cd98f00b204e9800998ecf8427e", "digest" }, // unsupported algorithm
        { "a@", "digest" },
        { "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hexadecimal" }, // looks like an image ID
        { "-a", "invalid" }, // leading separator
        { "a-", "invalid" }, // trailing separator
        { "a..b", "'..'" }, // double dot separator
        { "a/../b", "'..'" }, // path traversal
        { "a/./b", "'.'" },
        { "a b", "may only contain" }, // space
        { "a\tb", "may only contain" }, // tab
        { "a/b c", "may only contain" },
        { "a___b", "invalid" }, // three underscores
        { "http://host/a", "empty component" }, // scheme
        { "host:port/a", "invalid" }, // non-numeric port
        { "-host/a", "invalid" }, // domain starting with '-'
        { "a/b:c:d", "may only contain" }, // two tags
        { new string('a', 256), "255" }, // too long
        { "a/Ä", "lowercase" }, // non-ASCII letter
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Parse_Valid_Normalises(string input, string expected, string familiar)
    {
        Reference reference = Reference.Parse(input);
        Assert.Equal(expected, reference.ToString());
        Assert.Equal(familiar, reference.FamiliarName);
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void Parse_ToString_IsFixedPoint(string input, string expected, string familiar)
    {
        _ = input;
        _ = familiar;
        Assert.Equal(expected, Reference.Parse(expected).ToString());
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void TryParse_Invalid_SaysWhy(string input, string reason)
    {
        Assert.False(Reference.TryParse(input, out _, out string? error));
        Assert.Contains(reason, error, StringComparison.OrdinalIgnoreCase);
        FormatException ex = Assert.Throws<FormatException>(() => Reference.Parse(input));
        Assert.Contains(reason, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Parse_TagAndDigest_KeepsBothAndPrefersDigestForPull()
    {
        Reference reference = Reference.Parse($"localhost:5000/a:1@{D}");
        Assert.Equal("1", reference.Tag);
        Assert.Equal(D, reference.Digest.ToString());
        Assert.Equal(D, reference.ManifestReference);
        Assert.Equal("localhost:5000", reference.Registry);
        Assert.Equal("a", reference.Repository);
    }

    [Fact]
    public void DockerHub_RegistryHost_IsRegistry1()
    {
        Assert.Equal("registry-1.docker.io", Reference.Parse("redis").RegistryHost);
        Assert.Equal("localhost:5000", Reference.Parse("localhost:5000/x").RegistryHost);
    }

    [Fact]
    public void WithTag_ReplacesTagAndDropsDigest()
    {
        Reference reference = Reference.Parse($"redis@{D}").WithTag("8");
        Assert.Equal("docker.io/library/redis:8", reference.ToString());
        Assert.Throws<FormatException>(() => reference.WithTag("-bad"));
    }

    [Theory]
    [InlineData("library/redis", true)]
    [InlineData("a/b/c", true)]
    [InlineData("A/b", false)] // uppercase
    [InlineData("a/../b", false)] // traversal
    [InlineData("", false)] // empty
    public void IsValidRepository_Table(string repository, bool valid) => Assert.Equal(valid, Reference.IsValidRepository(repository));
}
