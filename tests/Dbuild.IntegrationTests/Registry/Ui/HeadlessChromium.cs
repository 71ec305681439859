using Dbuild.Testing;
using Microsoft.Playwright;

namespace Dbuild.IntegrationTests.Registry.Ui;

/// <summary>
/// Debian's chromium (<c>/usr/bin/chromium</c>), headless, driven through Playwright's bundled driver: no browser is
/// downloaded. Each <see cref="NewPageAsync"/> is a fresh context (no cookies or cached credentials).
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser) => (_playwright, _browser) = (playwright, browser);

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        Prerequisites.RequireTool(Executable, "chromium");
        IPlaywright playwright = await Playwright.CreateAsync();
        try
        {
            IBrowser browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = Executable,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"],
            });
            return new HeadlessChromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A page in a new context; with <paramref name="user"/>, the browser answers Basic challenges as NAME with password <paramref name="password"/>.</summary>
    public async Task<IPage> NewPageAsync(string? user = null, string? password = null)
    {
        IBrowserContext context = await _browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = 1200, Height = 900 },
            HttpCredentials = user is null ? null : new() { Username = user, Password = password ?? "" },
        });
        return await context.NewPageAsync();
    }

    /// <summary>The page's Navigation Timing: milliseconds from the request's start to the load event's end.</summary>
    public static async Task<double> NavigationMillisecondsAsync(IPage page) =>
        await page.EvaluateAsync<double>("() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }");

    /// <summary>The page's Navigation Timing: milliseconds from the request's start to the response's last byte.</summary>
    public static async Task<double> ResponseMillisecondsAsync(IPage page) =>
        await page.EvaluateAsync<double>("() => { const n = performance.getEntriesByType('navigation')[0]; return n.responseEnd - n.startTime; }");

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
