using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.BrowserTests;

/// <summary>The Account panel: roles and whitelist, linking a chat identity with a code, confirming sudo in the browser.</summary>
public sealed class AccountBrowserTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private RunningServer _server = null!;

    public async Task InitializeAsync()
    {
        var home = new TestHome();
        home.Write("packs/ops/pack.yaml", "name: ops\nversion: 0.1.0\ndescription: Commands for the account panel's tests\n");
        home.Write("packs/ops/actions/announce.yaml", """
            name: announce
            runner_type: echo
            description: Announce something to everyone (needs sudo)
            sudo: true
            parameters:
              message: {type: string, required: true}
            """);
        home.Write("packs/ops/aliases/announce.yaml", "name: announce\naction_ref: ops.announce\ndescription: Announce\nformats: [\"announce {{ message }}\"]\n");
        _server = await RunningServer.StartAsync(home: home);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Account_ShowsRolesAndWhitelist_AndALinkCodeLinksAChatIdentity()
    {
        await using var context = await browser.Instance.NewContextAsync(new() { Permissions = ["clipboard-read", "clipboard-write"] });
        var page = await SignInAsync(context, "admin", RunningServer.AdminPassword);

        await page.GetByTestId("account-button").ClickAsync();
        var panel = page.GetByTestId("account-panel");
        await Assertions.Expect(panel).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(page.GetByTestId("account-button")).ToHaveAttributeAsync("aria-expanded", "true");
        await Assertions.Expect(panel.Locator("[data-testid=access-role]", new() { HasTextString = "admin" })).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(page.GetByTestId("access-admin")).ToHaveAttributeAsync("data-administrator", "true");
        await Assertions.Expect(page.GetByTestId("access-elevation")).ToHaveAttributeAsync("data-open", "false");
        await Assertions.Expect(page.GetByTestId("identity-list")).ToContainTextAsync("No chat identity is linked yet.");

        await page.GetByTestId("link-code-button").ClickAsync();
        var codeNode = page.GetByTestId("link-code");
        await Assertions.Expect(codeNode).ToHaveTextAsync(new Regex(@"^\d{6}$"), new() { Timeout = Ms(Timeout) });
        var code = await codeNode.TextContentAsync();
        await Assertions.Expect(page.GetByTestId("link-say")).ToHaveTextAsync($"!link {code}");
        await Assertions.Expect(page.GetByTestId("link-expires")).Not.ToBeEmptyAsync();

        await page.GetByTestId("link-copy").ClickAsync();
        await Assertions.Expect(page.GetByTestId("link-copy-status")).ToHaveTextAsync("Copied.", new() { Timeout = Ms(Timeout) });
        (await page.EvaluateAsync<string>("() => navigator.clipboard.readText()")).ShouldBe($"!link {code}");

        // An IRC nick nobody has linked says the line to the robot, and becomes the administrator there.
        var robot = _server.Host.App.Services.GetRequiredService<Robot>();
        var reply = await robot.HandleAsync(new IncomingMessage(
            "irc", new ChatRoom("#ops", "#ops", false), new ChatUser("nick1", "nick1"), $"!link {code}", _server.Time.GetUtcNow()));
        reply.ShouldNotBeNull();
        reply.Text.ShouldContain("you are now admin");

        // The open panel polls: the new identity shows up without a reload.
        var identity = page.Locator("[data-testid=identity][data-platform=irc][data-platform-user-id=nick1]");
        await Assertions.Expect(identity).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });

        // The code worked once; the same line again is refused.
        var again = await robot.HandleAsync(new IncomingMessage(
            "irc", new ChatRoom("#ops", "#ops", false), new ChatUser("nick2", "nick2"), $"!link {code}", _server.Time.GetUtcNow()));
        again.ShouldNotBeNull();
        again.Text.ShouldContain("not valid");

        // Esc closes the panel and gives the focus back to the Account button.
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(panel).ToBeHiddenAsync(new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(page.GetByTestId("account-button")).ToBeFocusedAsync();
        await Assertions.Expect(page.GetByTestId("account-button")).ToHaveAttributeAsync("aria-expanded", "false");

        // Closed, it stops polling: no call for longer than two polling intervals.
        var calls = 0;
        page.Request += (_, r) =>
        {
            if (r.Url.Contains("/api/v1/me/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref calls);
            }
        };
        await page.WaitForTimeoutAsync(9000);
        Volatile.Read(ref calls).ShouldBe(0);
    }

    [Fact]
    public async Task SudoRequest_ConfirmedInTheAccountPanel_RunsTheCommandInItsRoom()
    {
        await using var context = await browser.Instance.NewContextAsync();
        var page = await SignInAsync(context, "admin", RunningServer.AdminPassword);

        // The panel is open before the request exists: polling must bring it in.
        await page.GetByTestId("account-button").ClickAsync();
        await Assertions.Expect(page.GetByTestId("sudo-empty")).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        await page.GetByTestId("account-close").ClickAsync();
        await Assertions.Expect(page.GetByTestId("account-panel")).ToBeHiddenAsync();

        await page.GetByTestId("new-room-button").ClickAsync();
        await page.GetByTestId("new-room-input").FillAsync("ops");
        await page.GetByTestId("new-room-input").PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("room-title")).ToContainTextAsync("ops", new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(page.GetByTestId("connection")).ToHaveAttributeAsync("data-state", "online", new() { Timeout = Ms(Timeout) });

        await page.GetByTestId("composer").FillAsync("!sudo announce release-7-is-live");
        await page.GetByTestId("composer").PressAsync("Enter");

        // Sent (the composer empties only then) in the room made above. A room list the page asked for at sign-in and
        // received only after the room was made used to close it, leaving the line unsent (a loaded machine's race).
        await Assertions.Expect(page.GetByTestId("composer")).ToHaveValueAsync(string.Empty);
        await Assertions.Expect(page.GetByTestId("room-title")).ToContainTextAsync("ops");
        var robotSays = page.Locator("[data-testid=message][data-author-kind=robot] [data-testid=message-text]");
        await Assertions.Expect(robotSays.Filter(new() { HasTextString = "needs sudo" })).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        (await robotSays.Filter(new() { HasTextString = "release-7-is-live" }).CountAsync()).ShouldBe(0);

        await page.GetByTestId("account-button").ClickAsync();
        var request = page.GetByTestId("sudo-request");
        await Assertions.Expect(request).ToHaveCountAsync(1, new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(request.GetByTestId("sudo-command")).ToHaveTextAsync("announce release-7-is-live");
        await Assertions.Expect(request.GetByTestId("sudo-room")).ToContainTextAsync("ops");

        await request.GetByTestId("sudo-confirm").ClickAsync();
        var ran = page.GetByTestId("sudo-ran");
        await Assertions.Expect(ran).ToContainTextAsync("announce release-7-is-live", new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(ran).ToContainTextAsync("ops");
        await Assertions.Expect(page.GetByTestId("sudo-result")).ToBeFocusedAsync();
        await Assertions.Expect(page.GetByTestId("sudo-empty")).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(page.GetByTestId("access-elevation")).ToHaveAttributeAsync("data-open", "true", new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(page.GetByTestId("elevation-until")).Not.ToBeEmptyAsync();

        await page.GetByTestId("account-close").ClickAsync();
        await Assertions.Expect(robotSays.Filter(new() { HasTextString = "release-7-is-live" })).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });

        // The panel's helpers leave the chat's own rendering alone: messages still carry their time of day.
        await Assertions.Expect(page.Locator("[data-testid=message] time.msg-time").First)
            .ToHaveTextAsync(new Regex(@"^\d{2}:\d{2}$"));
    }

    [Fact]
    public async Task SudoConfirm_OfARequestThatIsGone_ShowsTheServersError()
    {
        await using var context = await browser.Instance.NewContextAsync();
        var page = await SignInAsync(context, "admin", RunningServer.AdminPassword);
        await page.GetByTestId("dm-robot").ClickAsync();
        await page.GetByTestId("composer").FillAsync("sudo announce too-late");
        await page.GetByTestId("composer").PressAsync("Enter");

        await page.GetByTestId("account-button").ClickAsync();
        var confirm = page.GetByTestId("sudo-confirm");
        await Assertions.Expect(confirm).ToHaveCountAsync(1, new() { Timeout = Ms(Timeout) });

        // From here on the list on screen is stale (its refreshes never answer), and the request is used up
        // elsewhere (another browser) before the click.
        await page.RouteAsync("**/api/v1/me/elevations", _ => Task.CompletedTask);
        using (var other = await _server.SignInAsync())
        {
            var id = await confirm.GetAttributeAsync("data-request-id");
            var used = await other.PostAsync($"/api/v1/me/elevations/{id}/confirm", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            used.IsSuccessStatusCode.ShouldBeTrue(await used.Content.ReadAsStringAsync());
        }

        await confirm.ClickAsync();
        await Assertions.Expect(page.GetByTestId("sudo-error")).ToContainTextAsync("no open sudo request", new() { Timeout = Ms(Timeout) });
    }

    private async Task<IPage> SignInAsync(IBrowserContext context, string user, string password)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(_server.BaseAddress.ToString());
        await page.GetByTestId("login-user").FillAsync(user);
        await page.GetByTestId("login-password").FillAsync(password);
        await page.GetByTestId("login-password").PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("composer")).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        return page;
    }

    private static float Ms(TimeSpan t) => (float)t.TotalMilliseconds;
}
