namespace Dbuild.Registry.Client.Tests;

public sealed class AuthChallengeTests
{
    [Fact]
    public void Parse_BearerWithQuotedParameters_ReadsRealmServiceScope()
    {
        AuthChallenge? challenge = AuthChallenge.Parse("""Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push" """);

        Assert.NotNull(challenge);
        Assert.True(challenge.IsBearer);
        Assert.Equal("https://auth.example/token", challenge.Realm);
        Assert.Equal("registry.example", challenge.Service);
        Assert.Equal("repository:a/b:pull,push", challenge.Scope);
    }

    [Fact]
    public void Parse_BasicWithRealm_IsBasic()
    {
        AuthChallenge? challenge = AuthChallenge.Parse("Basic realm=\"Registry Realm\"");

        Assert.NotNull(challenge);
        Assert.True(challenge.IsBasic);
        Assert.Equal("Registry Realm", challenge.Realm);
    }

    [Fact]
    public void Parse_UnquotedValues_AreRead()
    {
        AuthChallenge? challenge = AuthChallenge.Parse("Bearer realm=https://a/t,service=reg");

        Assert.Equal("https://a/t", challenge?.Realm);
        Assert.Equal("reg", challenge?.Service);
    }
}
