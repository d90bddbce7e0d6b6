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

    [Theory]
    [InlineData("/api/v1/auth/login")]
    [InlineData("/api/v1/auth/token")]
    public async Task SignIn_RepeatedFailures_PauseThatNameFromThatAddressOnly_WithTheSameAnswerAsAnUnknownName(string path)
    {
        using var stranger = ClientFrom("127.0.0.2");
        using var admin = ClientFrom("127.0.0.3");
        for (var i = 0; i < 3; i++)
        {
            (await stranger.PostAsJsonAsync(path, new { userName = "admin", password = "guess-" + i })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            (await stranger.PostAsJsonAsync(path, new { userName = "nobody", password = "guess-" + i })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        using var pausedRight = await stranger.PostAsJsonAsync(path, new { userName = "admin", password = RunningServer.AdminPassword });
        using var pausedUnknown = await stranger.PostAsJsonAsync(path, new { userName = "nobody", password = "guess" });
        using var wrongElsewhere = await admin.PostAsJsonAsync(path, new { userName = "admin", password = "typo" });
        using var fromElsewhere = await admin.PostAsJsonAsync(path, new { userName = "admin", password = RunningServer.AdminPassword });
        _server.Time.Advance(TimeSpan.FromMinutes(9));
        using var stillPaused = await stranger.PostAsJsonAsync(path, new { userName = "admin", password = RunningServer.AdminPassword });
        _server.Time.Advance(TimeSpan.FromMinutes(2));
        using var open = await stranger.PostAsJsonAsync(path, new { userName = "admin", password = RunningServer.AdminPassword });

        // The stranger's failures paused admin for the stranger's address only; the admin signs in from theirs.
        fromElsewhere.StatusCode.ShouldBe(HttpStatusCode.OK);
        pausedRight.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        stillPaused.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        open.StatusCode.ShouldBe(HttpStatusCode.OK);

        // A paused name, an unknown one and a wrong password get the very same answer.
        var answer = await pausedRight.Content.ReadAsStringAsync();
        answer.ShouldContain("too many failed attempts");
        (await pausedUnknown.Content.ReadAsStringAsync()).ShouldBe(answer);
        (await wrongElsewhere.Content.ReadAsStringAsync()).ShouldBe(answer);
        pausedUnknown.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        // Every failure is still in the audit, the pause named.
        using var auditor = await _server.SignInAsync();
        var records = (await auditor.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/audit?kind=auth.sign_in&decision=deny&limit=200")).GetProperty("records").EnumerateArray().ToList();
        records.Count(r => r.GetProperty("place").GetString() == "127.0.0.2").ShouldBeGreaterThanOrEqualTo(9);
        records.ShouldContain(r => r.GetProperty("rule").GetString() == "too many failures for this name from this address");
    }

    /// <summary>A client whose connections come from <paramref name="address"/> (any 127.x.y.z is this machine).</summary>
    private HttpClient ClientFrom(string address) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    })
    {
        BaseAddress = _server.BaseAddress,
        Timeout = TimeSpan.FromSeconds(30),
    };

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
