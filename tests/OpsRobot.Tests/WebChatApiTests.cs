using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

public sealed class WebChatApiTests : IAsyncLifetime
{
    private RunningServer _server = null!;

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Health_Anonymous_ReportsHealthyWithVersionAndNoPaths()
    {
        using var client = _server.NewClient();

        var response = await client.GetAsync("/health");
        var body = await response.Content.ReadAsStringAsync();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var doc = JsonDocument.Parse(body);
        doc.RootElement.GetProperty("status").GetString().ShouldBe("healthy");
        doc.RootElement.GetProperty("version").GetString().ShouldNotBeNullOrEmpty();
        doc.RootElement.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("name").GetString())
            .ShouldBe(["packs", "store", "executions", "chat:web", "rules"], ignoreOrder: true);
        body.ShouldNotContain(_server.Home.Path);
    }

    [Theory]
    [InlineData("/api/v1/me")]
    [InlineData("/api/v1/rooms")]
    [InlineData("/api/v1/direct")]
    [InlineData("/api/v1/rooms/ops/messages")]
    public async Task ApiGet_NotSignedIn_Is401NotRedirect(string path)
    {
        using var client = _server.NewClient();

        var response = await client.GetAsync(path);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Post_WithoutJsonContentType_IsRefusedAs415()
    {
        using var client = await _server.SignInAsync();

        var response = await client.PostAsync("/api/v1/rooms", new StringContent("name=ops", Encoding.UTF8, "application/x-www-form-urlencoded"));

        response.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        (await response.Content.ReadAsStringAsync()).ShouldContain("application/json");
    }

    [Fact]
    public async Task Rooms_CreateJoinPostRead_RobotAnswersPingInHistory()
    {
        using var alice = await _server.CreateUserAsync("alice");
        using var bob = await _server.CreateUserAsync("bob");

        (await alice.PostAsJsonAsync("/api/v1/rooms", new { name = "ops", topic = "Operations" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await bob.PostAsJsonAsync("/api/v1/rooms/ops/join", new { })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var posted = await bob.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!ping" });
        posted.StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var history = await alice.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages");
        var messages = history.GetProperty("messages").EnumerateArray().ToList();
        messages.Count.ShouldBe(2);
        messages[0].GetProperty("text").GetString().ShouldBe("!ping");
        messages[0].GetProperty("author").GetProperty("name").GetString().ShouldBe("bob");
        messages[1].GetProperty("text").GetString().ShouldBe("pong");
        messages[1].GetProperty("author").GetProperty("kind").GetString().ShouldBe("robot");

        var rooms = await bob.GetFromJsonAsync<JsonElement>("/api/v1/rooms");
        var ops = rooms.EnumerateArray().Single(r => r.GetProperty("name").GetString() == "ops");
        ops.GetProperty("joined").GetBoolean().ShouldBeTrue();
        ops.GetProperty("memberCount").GetInt32().ShouldBe(2);
    }

    [Theory]
    [InlineData("Ops Room", HttpStatusCode.BadRequest)] // spaces and capitals
    [InlineData("../etc", HttpStatusCode.BadRequest)]
    [InlineData("", HttpStatusCode.BadRequest)]
    [InlineData("-leading-dash", HttpStatusCode.BadRequest)]
    public async Task CreateRoom_BadName_IsRefusedWithTheRule(string name, HttpStatusCode expected)
    {
        using var client = await _server.SignInAsync();

        var response = await client.PostAsJsonAsync("/api/v1/rooms", new { name });

        response.StatusCode.ShouldBe(expected);
        (await response.Content.ReadAsStringAsync()).ShouldContain("room name");
    }

    [Fact]
    public async Task CreateRoom_Twice_IsConflict()
    {
        using var client = await _server.SignInAsync();
        await client.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });

        var again = await client.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });

        again.StatusCode.ShouldBe(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Messages_NotAMember_Is403AndNothingStored()
    {
        using var admin = await _server.SignInAsync();
        await admin.PostAsJsonAsync("/api/v1/rooms", new { name = "private-ish" });
        using var eve = await _server.CreateUserAsync("eve");

        var read = await eve.GetAsync("/api/v1/rooms/private-ish/messages");
        var post = await eve.PostAsJsonAsync("/api/v1/rooms/private-ish/messages", new { text = "hello" });

        read.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        post.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var history = await admin.GetFromJsonAsync<JsonElement>("/api/v1/rooms/private-ish/messages");
        history.GetProperty("messages").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task DirectRoom_OfAnotherUser_IsInvisibleAndUnjoinable()
    {
        using var alice = await _server.CreateUserAsync("alice");
        await alice.GetAsync("/api/v1/direct");
        using var eve = await _server.CreateUserAsync("eve");

        var join = await eve.PostAsJsonAsync("/api/v1/rooms/@alice/join", new { });
        var read = await eve.GetAsync("/api/v1/rooms/@alice/messages");
        var list = await eve.GetFromJsonAsync<JsonElement>("/api/v1/rooms");

        join.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        read.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        list.EnumerateArray().Select(r => r.GetProperty("name").GetString()).ShouldNotContain("@alice");
    }

    [Fact]
    public async Task DirectRoom_EveryLineIsACommand()
    {
        using var alice = await _server.CreateUserAsync("alice");
        var dm = await alice.GetFromJsonAsync<JsonElement>("/api/v1/direct");
        var name = dm.GetProperty("name").GetString()!;

        await alice.PostAsJsonAsync($"/api/v1/rooms/{Uri.EscapeDataString(name)}/messages", new { text = "whoami" });
        var history = await alice.GetFromJsonAsync<JsonElement>($"/api/v1/rooms/{Uri.EscapeDataString(name)}/messages");

        dm.GetProperty("kind").GetString().ShouldBe("direct");
        history.GetProperty("messages")[1].GetProperty("text").GetString()!.ShouldContain("**alice**");
    }

    [Fact]
    public async Task PostMessage_OverTheLimit_Is413AndNotStored()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["OpsRobot:MaxMessageLength"] = "100" });
        using var client = await server.SignInAsync();
        await client.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });

        var response = await client.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!echo " + new string('x', 200) });

        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).ShouldContain("limit is 100");
        var history = await client.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages");
        history.GetProperty("messages").GetArrayLength().ShouldBe(0);
    }

    [Theory]
    [InlineData("\u0000\u0001\u0002garbage")]
    [InlineData("\u001b[31mred")]
    [InlineData("   ")]
    public async Task PostMessage_BinaryOrEmpty_Is400AndNotStored(string text)
    {
        using var client = await _server.SignInAsync();
        await client.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });

        var response = await client.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var history = await client.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages");
        history.GetProperty("messages").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task PostMessage_MalformedJson_Is400AndServerStaysUp()
    {
        using var client = await _server.SignInAsync();
        await client.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });

        var response = await client.PostAsync("/api/v1/rooms/ops/messages", new StringContent("{\"text\": ", Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await client.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task History_PagesBackwardsAndCatchesUpForwards()
    {
        using var client = await _server.SignInAsync();
        await client.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" });
        for (var i = 0; i < 30; i++)
        {
            await client.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = $"line {i}" });
        }

        var latest = (await client.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=10")).GetProperty("messages");
        var firstId = latest[0].GetProperty("id").GetInt64();
        var older = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/rooms/ops/messages?before={firstId}&limit=10")).GetProperty("messages");
        var newer = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/rooms/ops/messages?after={older[9].GetProperty("id").GetInt64()}&limit=5")).GetProperty("messages");

        latest[9].GetProperty("text").GetString().ShouldBe("line 29");
        latest[0].GetProperty("text").GetString().ShouldBe("line 20");
        older[0].GetProperty("text").GetString().ShouldBe("line 10");
        older[9].GetProperty("text").GetString().ShouldBe("line 19");
        newer[0].GetProperty("text").GetString().ShouldBe("line 20");
        newer.GetArrayLength().ShouldBe(5);
    }

    [Fact]
    public async Task CreateUser_ByNonAdmin_Is403()
    {
        using var alice = await _server.CreateUserAsync("alice");

        var response = await alice.PostAsJsonAsync("/api/v1/users", new { name = "mallory", password = "password-123" });

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task WebChatPage_IsServedWithSecurityHeaders()
    {
        using var client = _server.NewClient();

        var response = await client.GetAsync("/");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("default-src 'self'");
        response.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY");
        (await response.Content.ReadAsStringAsync()).ShouldContain("OpsRobot");
    }
}
