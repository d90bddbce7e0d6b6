using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

public sealed class StreamTests : IAsyncLifetime
{
    private RunningServer _server = null!;

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Send_OverTheSocket_EveryMemberSeesTheLineAndTheAnswerLive()
    {
        using var alice = await _server.CreateUserAsync("alice");
        using var bob = await _server.CreateUserAsync("bob");
        using var eve = await _server.CreateUserAsync("eve");
        await alice.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });
        await bob.PostAsJsonAsync("/api/v1/rooms/ops/join", new { });
        await using var aliceStream = await _server.ConnectStreamAsync(alice);
        await using var bobStream = await _server.ConnectStreamAsync(bob);
        await using var eveStream = await _server.ConnectStreamAsync(eve);
        await aliceStream.WaitForAsync(f => f.GetProperty("type").GetString() == "hello");
        await bobStream.WaitForAsync(f => f.GetProperty("type").GetString() == "hello");
        await eveStream.WaitForAsync(f => f.GetProperty("type").GetString() == "hello");

        await bobStream.SendAsync(new { type = "send", room = "ops", text = "!ping" });

        var line = await aliceStream.WaitForMessageAsync("!ping");
        var answer = await aliceStream.WaitForMessageAsync("pong");
        line.GetProperty("room").GetString().ShouldBe("ops");
        line.GetProperty("message").GetProperty("author").GetProperty("name").GetString().ShouldBe("bob");
        answer.GetProperty("message").GetProperty("author").GetProperty("kind").GetString().ShouldBe("robot");
        (await bobStream.WaitForMessageAsync("pong")).ShouldNotBe(default);

        // eve is not in the room: the next thing she sees must be her own traffic, not ops's.
        await eve.GetAsync("/api/v1/direct");
        await eveStream.SendAsync(new { type = "send", room = "@eve", text = "ping" });
        var first = await eveStream.WaitForAsync(f => f.GetProperty("type").GetString() == "message");
        first.GetProperty("room").GetString().ShouldBe("@eve");
    }

    [Fact]
    public async Task Send_ToARoomNotJoined_GetsAnErrorFrameAndNothingIsStored()
    {
        using var admin = await _server.SignInAsync();
        await admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });
        using var eve = await _server.CreateUserAsync("eve");
        await using var stream = await _server.ConnectStreamAsync(eve);

        await stream.SendAsync(new { type = "send", room = "ops", text = "!ping" });

        var error = await stream.WaitForAsync(f => f.GetProperty("type").GetString() == "error");
        error.GetProperty("error").GetString()!.ShouldContain("join");
        var history = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/rooms/ops/messages");
        history.GetProperty("messages").GetArrayLength().ShouldBe(0);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"type\":\"dance\"}")]
    [InlineData("[]")]
    [InlineData("{\"type\":\"send\",\"room\":5,\"text\":true}")]
    public async Task Send_MalformedFrame_GetsAnErrorFrameAndTheSocketStaysOpen(string frame)
    {
        using var admin = await _server.SignInAsync();
        await admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });
        await using var stream = await _server.ConnectStreamAsync(admin);

        await stream.Socket.SendAsync(System.Text.Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, true, CancellationToken.None);
        var error = await stream.WaitForAsync(f => f.GetProperty("type").GetString() == "error");
        await stream.SendAsync(new { type = "send", room = "ops", text = "!ping" });

        error.GetProperty("error").GetString().ShouldNotBeNullOrEmpty();
        (await stream.WaitForMessageAsync("pong")).ShouldNotBe(default);
    }

    [Fact]
    public async Task Send_OversizedFrame_IsRefusedAndTheSocketStaysOpen()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["OpsRobot:MaxMessageLength"] = "50" });
        using var admin = await server.SignInAsync();
        await admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });
        await using var stream = await server.ConnectStreamAsync(admin);

        await stream.SendAsync(new { type = "send", room = "ops", text = new string('x', 100_000) });
        var error = await stream.WaitForAsync(f => f.GetProperty("type").GetString() == "error");
        await stream.SendAsync(new { type = "send", room = "ops", text = "!ping" });

        error.GetProperty("error").GetString()!.ShouldContain("limit");
        (await stream.WaitForMessageAsync("pong")).ShouldNotBe(default);
    }

    [Fact]
    public async Task Connect_FromAnotherOrigin_IsRefused()
    {
        using var admin = await _server.SignInAsync();

        var ex = await Should.ThrowAsync<WebSocketException>(() => _server.ConnectStreamAsync(admin, origin: "http://evil.example"));

        ex.Message.ShouldContain("403");
    }

    [Fact]
    public async Task Connect_NotSignedIn_IsRefused()
    {
        using var anonymous = _server.NewClient();

        var ex = await Should.ThrowAsync<WebSocketException>(() => _server.ConnectStreamAsync(anonymous));

        ex.Message.ShouldContain("401");
    }

    [Fact]
    public async Task Stream_PlainHttpRequest_Is400()
    {
        using var admin = await _server.SignInAsync();

        var response = await admin.GetAsync("/api/v1/stream");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }
}
