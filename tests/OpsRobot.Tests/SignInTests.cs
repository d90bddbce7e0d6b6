using System.Net;
using System.Net.Http.Json;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

public sealed class SignInTests : IAsyncLifetime
{
    private RunningServer _server = null!;

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync(new Dictionary<string, string?>
    {
        ["OpsRobot:SignIn:MaxFailedAttempts"] = "3",
        ["OpsRobot:SignIn:LockoutDuration"] = "00:10:00",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Login_WrongPasswordAndUnknownUser_GiveTheSameAnswer()
    {
        using var client = _server.NewClient();

        var wrong = await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = "nope-nope" });
        var unknown = await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "nobody", password = "nope-nope" });

        wrong.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        unknown.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await wrong.Content.ReadAsStringAsync()).ShouldBe(await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Login_RepeatedFailures_LockTheAccountUntilTheLockoutPasses()
    {
        using var client = _server.NewClient();
        for (var i = 0; i < 3; i++)
        {
            await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = "guess-" + i });
        }

        var locked = await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword });
        _server.Time.Advance(TimeSpan.FromMinutes(9));
        var stillLocked = await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword });
        _server.Time.Advance(TimeSpan.FromMinutes(2));
        var open = await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword });

        locked.StatusCode.ShouldBe((HttpStatusCode)423);
        stillLocked.StatusCode.ShouldBe((HttpStatusCode)423);
        open.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Logout_EndsTheSession()
    {
        using var client = await _server.SignInAsync();
        (await client.GetAsync("/api/v1/me")).StatusCode.ShouldBe(HttpStatusCode.OK);

        await client.PostAsJsonAsync("/api/v1/auth/logout", new { });

        (await client.GetAsync("/api/v1/me")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Login_SessionCookie_IsHttpOnlyAndSameSiteStrict()
    {
        using var client = _server.NewClient();

        var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword });

        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("opsrobot.session=", StringComparison.Ordinal));
        cookie.ShouldContain("httponly", Case.Insensitive);
        cookie.ShouldContain("samesite=strict", Case.Insensitive);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"userName\":\"admin\"}")]
    [InlineData("[1,2,3]")]
    public async Task Login_MalformedBody_Is400(string body)
    {
        using var client = _server.NewClient();

        var response = await client.PostAsync("/api/v1/auth/login", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }
}
