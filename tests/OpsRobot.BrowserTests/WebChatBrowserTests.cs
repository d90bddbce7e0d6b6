using Microsoft.Playwright;
using OpsRobot.Tests.Support;

namespace OpsRobot.BrowserTests;

/// <summary>The web chat as people use it: two people in two browsers, one room, live answers.</summary>
public sealed class WebChatBrowserTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private RunningServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync();
        (await _server.CreateUserAsync("alice", "alice-password")).Dispose();
        (await _server.CreateUserAsync("bob", "bob-password-")).Dispose();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Ping_InARoom_AppearsLiveInAnotherPersonsBrowser()
    {
        await using var aliceContext = await browser.Instance.NewContextAsync();
        await using var bobContext = await browser.Instance.NewContextAsync();
        var alice = await SignInAsync(aliceContext, "alice", "alice-password");
        var bob = await SignInAsync(bobContext, "bob", "bob-password-");

        // alice creates the room from the sidebar; bob sees it in the room list and joins it.
        await alice.GetByTestId("new-room-button").ClickAsync();
        await alice.GetByTestId("new-room-input").FillAsync("ops");
        await alice.GetByTestId("new-room-input").PressAsync("Enter");
        await Assertions.Expect(alice.GetByTestId("room-title")).ToContainTextAsync("ops", new() { Timeout = Ms(Timeout) });
        await bob.ReloadAsync();
        await bob.Locator("[data-testid=room-item][data-room=ops]").ClickAsync(new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(bob.GetByTestId("room-title")).ToContainTextAsync("ops", new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(bob.GetByTestId("connection")).ToHaveAttributeAsync("data-state", "online", new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(alice.GetByTestId("connection")).ToHaveAttributeAsync("data-state", "online", new() { Timeout = Ms(Timeout) });

        // alice types !ping and presses Enter; bob's page shows her line and the robot's answer without a reload.
        await alice.GetByTestId("composer").FillAsync("!ping");
        await alice.GetByTestId("composer").PressAsync("Enter");

        var bobSeesLine = bob.Locator("[data-testid=message][data-author=alice] [data-testid=message-text]", new() { HasTextString = "!ping" });
        var bobSeesAnswer = bob.Locator("[data-testid=message][data-author-kind=robot] [data-testid=message-text]", new() { HasTextString = "pong" });
        await Assertions.Expect(bobSeesLine).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(bobSeesAnswer).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(alice.GetByTestId("composer")).ToHaveValueAsync(string.Empty);
    }

    [Fact]
    public async Task Help_RendersTheRobotsTableAsATable()
    {
        await using var context = await browser.Instance.NewContextAsync();
        var page = await SignInAsync(context, "alice", "alice-password");

        await page.GetByTestId("dm-robot").ClickAsync();
        await page.GetByTestId("composer").FillAsync("help");
        await page.GetByTestId("composer").PressAsync("Enter");

        // One table per pack: core's built-in commands first.
        var table = page.Locator("[data-testid=message][data-author-kind=robot] table").First;
        await Assertions.Expect(table).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(table.Locator("code", new() { HasTextString = "!ping" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task SignIn_WrongPassword_ShowsTheError()
    {
        await using var context = await browser.Instance.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(_server.BaseAddress.ToString());

        await page.GetByTestId("login-user").FillAsync("alice");
        await page.GetByTestId("login-password").FillAsync("not-her-password");
        await page.GetByTestId("login-submit").ClickAsync();

        await Assertions.Expect(page.GetByTestId("login-error")).ToContainTextAsync("Wrong user name or password", new() { Timeout = Ms(Timeout) });
    }

    [Fact]
    public async Task Message_WithHtml_IsShownAsTextNeverRun()
    {
        await using var context = await browser.Instance.NewContextAsync();
        var page = await SignInAsync(context, "alice", "alice-password");
        var dialogs = 0;
        page.Dialog += (_, d) => { dialogs++; _ = d.DismissAsync(); };

        await page.GetByTestId("dm-robot").ClickAsync();
        await page.GetByTestId("composer").FillAsync("echo <img src=x onerror=alert(1)><script>alert(2)</script>");
        await page.GetByTestId("composer").PressAsync("Enter");

        var answer = page.Locator("[data-testid=message][data-author-kind=robot] [data-testid=message-text]").Last;
        await Assertions.Expect(answer).ToContainTextAsync("<script>alert(2)</script>", new() { Timeout = Ms(Timeout) });
        (await page.Locator("[data-testid=messages] img, [data-testid=messages] script").CountAsync()).ShouldBe(0);
        dialogs.ShouldBe(0);
    }

    [Fact]
    public async Task NewRoom_CreatedWhileTheRoomListIsStillOnItsWay_StaysOpen_AndTheLineGoesThere()
    {
        await using var context = await browser.Instance.NewContextAsync();
        var page = await context.NewPageAsync();

        // The room list the page asks for at sign-in is read by the server at once but reaches the page late (a loaded
        // machine), after the person has made a room of their own and typed a line: that list does not know the room.
        var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var late = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("**/api/v1/rooms", async route =>
        {
            if (route.Request.Method != "GET" || read.Task.IsCompleted)
            {
                await route.FallbackAsync();
                return;
            }

            var answer = await route.FetchAsync();
            read.TrySetResult();
            await late.Task;
            await route.FulfillAsync(new() { Response = answer });
            delivered.TrySetResult();
        });
        await page.GotoAsync(_server.BaseAddress.ToString());
        await page.GetByTestId("login-user").FillAsync("alice");
        await page.GetByTestId("login-password").FillAsync("alice-password");
        await page.GetByTestId("login-password").PressAsync("Enter");
        await read.Task.WaitAsync(Timeout);
        await page.GetByTestId("new-room-button").ClickAsync(new() { Timeout = Ms(Timeout) });
        await page.GetByTestId("new-room-input").FillAsync("late");
        await page.GetByTestId("new-room-input").PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("room-title")).ToContainTextAsync("late", new() { Timeout = Ms(Timeout) });
        await page.GetByTestId("composer").FillAsync("!echo typed-in-late");

        late.SetResult();
        await delivered.Task.WaitAsync(Timeout);
        await page.WaitForTimeoutAsync(1000); // the page handles that list; nothing the person sees may change
        await Assertions.Expect(page.GetByTestId("room-title")).ToContainTextAsync("late");
        await page.GetByTestId("composer").PressAsync("Enter");

        var answer = page.Locator("[data-testid=message][data-author-kind=robot] [data-testid=message-text]", new() { HasTextString = "typed-in-late" });
        await Assertions.Expect(answer).ToBeVisibleAsync(new() { Timeout = Ms(Timeout) });
        await Assertions.Expect(page.GetByTestId("room-title")).ToContainTextAsync("late");
        using var api = await _server.SignInAsync("alice", "alice-password");
        (await api.GetStringAsync("/api/v1/rooms/late/messages")).ShouldContain("!echo typed-in-late");
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
