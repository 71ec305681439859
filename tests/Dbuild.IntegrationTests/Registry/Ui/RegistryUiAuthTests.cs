using System.Net;
using Dbuild.IntegrationTests.Registry.Rules;
using Dbuild.Testing;
using Microsoft.Playwright;

namespace Dbuild.IntegrationTests.Registry.Ui;

/// <summary>
/// The web UI under the API's auth, in headless chromium: htpasswd challenges a signed-out browser; with the built-in
/// token issuer a browser signs in with Basic credentials and sees only what the rules let the account pull.
/// </summary>
[Collection(RegistryEndToEnd.Name)]
public sealed class RegistryUiAuthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ui_Htpasswd_SignedOutIsChallengedSignedInBrowses()
    {
        string busybox = Prerequisites.RequireBusyboxLayout();
        using var work = new TempDirectory("dbuild-ui-");
        string htpasswd = work.Combine("htpasswd");
        await File.WriteAllTextAsync(htpasswd, $"dana:{BCrypt.Net.BCrypt.HashPassword("dana-pw", 5)}\n", Ct);
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct,
            extra: $"auth:\n  htpasswd:\n    realm: ui-test\n    path: {htpasswd}\nui:\n  enabled: true\n");
        await Tools.SkopeoAsync(Ct, "copy", "--dest-tls-verify=false", "--dest-creds", "dana:dana-pw", $"oci:{busybox}:latest", $"docker://{registry.Host}/dana/box:1");

        await using HeadlessChromium chromium = await HeadlessChromium.LaunchAsync();
        await AssertChallengedAsync(await chromium.NewPageAsync(), $"{registry.BaseUrl}/ui/r/dana/box", "ui-test");
        await AssertChallengedAsync(await chromium.NewPageAsync("dana", "not-her-password"), $"{registry.BaseUrl}/ui/", "ui-test", "dana:not-her-password");

        IPage dana = await chromium.NewPageAsync("dana", "dana-pw");
        Assert.Equal(200, (await dana.GotoAsync($"{registry.BaseUrl}/ui/"))!.Status);
        Assert.Equal(["dana/box"], await dana.Locator("#repositories td a").AllTextContentsAsync());
        Assert.Contains("signed in as dana", await dana.InnerTextAsync("header"), StringComparison.Ordinal);
        Assert.Equal(200, (await dana.GotoAsync($"{registry.BaseUrl}/ui/r/dana/box/m/1"))!.Status);
        Assert.Equal(1, await dana.Locator("#layers tbody tr").CountAsync());
    }

    [Fact]
    public async Task Ui_BuiltinTokenRules_ShowOnlyWhatTheAccountMayPull()
    {
        await using RulesRegistry registry = await RulesRegistry.StartAsync(Ct, extra: "ui:\n  enabled: true\n");
        foreach (string repository in new[] { "public/app", "carol/app", "alice/private", "team-x/app" }) { await registry.SeedAsync(repository, Ct); }
        string baseUrl = registry.Server.BaseUrl;

        await using HeadlessChromium chromium = await HeadlessChromium.LaunchAsync();
        // Signed out: only the rules for "*" (anyone pulls public/**), and a way to sign in.
        IPage anonymous = await chromium.NewPageAsync();
        Assert.Equal(200, (await anonymous.GotoAsync($"{baseUrl}/ui/"))!.Status);
        Assert.Equal(["public/app"], await anonymous.Locator("#repositories td a").AllTextContentsAsync());
        Assert.Equal(1, await anonymous.Locator("header a:text('Sign in')").CountAsync());
        Assert.Equal(404, (await anonymous.GotoAsync($"{baseUrl}/ui/r/carol/app"))!.Status);
        Assert.Equal(404, (await anonymous.GotoAsync($"{baseUrl}/ui/r/carol/app/m/1"))!.Status);
        await AssertChallengedAsync(anonymous, $"{baseUrl}/ui/login", "dbuild-registry");

        // carol signs in (the browser answers the sign-in page's challenge) and sees her repository and the public one.
        IPage carol = await chromium.NewPageAsync("carol", "carol-pw");
        await carol.GotoAsync($"{baseUrl}/ui/");
        await carol.ClickAsync("header a:text('Sign in')");
        await carol.WaitForURLAsync($"{baseUrl}/ui/");
        Assert.Contains("signed in as carol", await carol.InnerTextAsync("header"), StringComparison.Ordinal);
        Assert.Equal(["carol/app", "public/app"], await carol.Locator("#repositories td a").AllTextContentsAsync());
        Assert.Equal(200, (await carol.GotoAsync($"{baseUrl}/ui/r/carol/app"))!.Status);
        Assert.Equal(404, (await carol.GotoAsync($"{baseUrl}/ui/r/alice/private"))!.Status);
        Assert.Equal(404, (await carol.GotoAsync($"{baseUrl}/ui/r/alice/private/m/1"))!.Status);

        // ci-robot sees team-*/** as well; alice (admin) everything; a wrong password is challenged again.
        IPage robot = await chromium.NewPageAsync("ci-robot", "ci-robot-pw");
        await robot.GotoAsync($"{baseUrl}/ui/login");
        Assert.Equal(["public/app", "team-x/app"], await robot.Locator("#repositories td a").AllTextContentsAsync());
        IPage alice = await chromium.NewPageAsync("alice", "alice-pw");
        await alice.GotoAsync($"{baseUrl}/ui/login");
        Assert.Equal(["alice/private", "carol/app", "public/app", "team-x/app"], await alice.Locator("#repositories td a").AllTextContentsAsync());
        await AssertChallengedAsync(await chromium.NewPageAsync("carol", "wrong"), $"{baseUrl}/ui/login", "dbuild-registry", "carol:wrong");
    }

    /// <summary>
    /// The page answers 401 with a Basic challenge, in chromium and (the header as sent) to a plain client.
    /// </summary>
    private static async Task AssertChallengedAsync(IPage page, string url, string realm, string? userPassword = null)
    {
        var statuses = new List<int>();
        page.Response += (_, response) => { if (response.Url == url) { lock (statuses) { statuses.Add(response.Status); } } };
        try
        {
            // Wrong credentials: chromium tried them, got the 401 again and shows it.
            IResponse? shown = await page.GotoAsync(url);
            Assert.Equal(401, shown!.Status);
            Assert.DoesNotContain("/r/", await page.InnerTextAsync("main"), StringComparison.Ordinal);
        }
        catch (PlaywrightException failed)
        {
            // None at all: headless chromium cannot prompt, so it gives up on the challenge.
            Assert.Contains("ERR_INVALID_AUTH_CREDENTIALS", failed.Message, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(200, statuses);
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (userPassword is not null) { request.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(userPassword))); }
        using HttpResponseMessage response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal($"Basic realm=\"{realm}\", charset=\"UTF-8\"", response.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain("/r/", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ui_NotEnabled_IsNotServed()
    {
        using var work = new TempDirectory("dbuild-ui-");
        await using RegistryServer registry = await RegistryServer.StartDbuildAsync(work.Path, work.Combine("data"), Ct);
        using var client = new HttpClient();
        using HttpResponseMessage response = await client.GetAsync($"{registry.BaseUrl}/ui/", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
